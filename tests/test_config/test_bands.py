"""lszoo.config.bands: every dataloader's bands are checked against each other and the model before
anything is built, and ``set_bands`` (``--bands``) changes them consistently."""
import copy
import os.path as osp

import pytest
from helpers import REPO
from mmengine.config import Config

import lszoo  # noqa: F401
from lszoo.config.bands import check_loader_bands, loader_bands, set_bands
from lszoo.errors import ConfigError



@pytest.fixture(scope='module')
def l4s_cfg():
    return Config.fromfile(osp.join(REPO, 'configs', 'unet', 'unet_l4s.py'))


def test_bands_changed_in_one_loader_only_fail_before_training(l4s_cfg):
    cfg = copy.deepcopy(l4s_cfg)
    check_loader_bands(cfg, 'unet_l4s.py')  # the shipped config is consistent
    cfg.val_dataloader.dataset.bands = ['B2', 'B3', 'B4']
    with pytest.raises(ConfigError, match=r'dataloaders of config unet_l4s\.py read different '
                                          r"bands: train_dataloader\.dataset\.bands = \['B1'.*"
                                          r"\(14\) but val_dataloader\.dataset\.bands = \['B2', "
                                          r"'B3', 'B4'\] \(3\).*--bands"):
        check_loader_bands(cfg, 'unet_l4s.py')


def test_set_bands_changes_every_loader_and_the_model(l4s_cfg):
    cfg = copy.deepcopy(l4s_cfg)
    set_bands(cfg, ['B2', 'B3', 'B4', 'B8'])
    assert [b for _, _, b in loader_bands(cfg)] == [['B2', 'B3', 'B4', 'B8']] * 3
    assert cfg.model.backbone.in_channels == 4 and cfg.in_channels == 4
    assert cfg.test_dataloader.dataset.stream_layout is None
    check_loader_bands(cfg)
    with pytest.raises(ConfigError, match='at least one band'):
        set_bands(cfg, [])


def test_set_bands_refuses_multi_stream_models():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'digate_unet', 'digate_unet_l4s.py'))
    with pytest.raises(ConfigError, match=r'stream_channels = .* multi-stream model'):
        set_bands(cfg, ['B2', 'B3', 'B4'])


def test_same_count_other_names_only_for_the_same_dataset_type(l4s_cfg):
    cfg = copy.deepcopy(l4s_cfg)
    cfg.test_dataloader.dataset.bands = list(reversed(cfg.test_dataloader.dataset.bands))
    with pytest.raises(ConfigError, match=r"test_dataloader\.dataset\.bands = \['DEM', 'slope'"):
        check_loader_bands(cfg)
    zero_shot = Config.fromfile(osp.join(REPO, 'configs', 'geonext', 'geonext_zeroshot_l4s.py'))
    check_loader_bands(zero_shot)  # CAS R, G, B model tested on L4S B4, B3, B2: same count


def test_eo_encoder_band_names_follow_the_loaders():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'geonext',
                                   'geonext_resnet18-ssl4eo_inventory.py'))
    check_loader_bands(cfg)  # the shipped config names the loaders' bands
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.bands = ['B4', 'B3', 'B2', 'B8', 'DEM']  # same count, other order
    with pytest.raises(ConfigError, match=r"model\.backbone\.bands = \['B2', 'B3', 'B4', 'B8', "
                                          r"'DEM'\] but train_dataloader.*by name"):
        check_loader_bands(cfg)
    set_bands(cfg, ['B8', 'B4', 'DEM'])
    assert cfg.model.backbone.bands == ['B8', 'B4', 'DEM'] and 'in_channels' not in \
        cfg.model.backbone
    check_loader_bands(cfg)
