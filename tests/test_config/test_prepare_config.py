"""lszoo.config from Python: the one load_config (path, dict or Config) and prepare_config, which
applies the tools' overrides (--bands, --data-root, crop_size) and checks in one call."""
import os.path as osp

import pytest
from helpers import REPO
from mmengine.config import Config

from lszoo.config import load_config, prepare_config
from lszoo.datasets.synthetic_writers import write_synthetic_dataset
from lszoo.errors import ConfigError, DataError

L4S = osp.join(REPO, 'configs', 'unet', 'unet_l4s.py')
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def test_load_config_takes_a_path_a_dict_or_a_config():
    cfg = load_config(L4S, {'train_cfg.max_iters': 3})
    assert cfg.train_cfg.max_iters == 3 and cfg.filename == L4S
    assert load_config(cfg) is cfg
    assert load_config(dict(a=1), {'b': 2}).to_dict() == dict(a=1, b=2)
    with pytest.raises(ConfigError, match='nope.py does not exist'):
        load_config('nope.py')


def test_prepare_config_applies_bands_data_root_and_crop(tmp_path):
    root = write_synthetic_dataset('l4s', tmp_path / 'l4s', num_images=2, size=128, seed=0)
    bands = ['B2', 'B3', 'B4', 'B8']
    cfg = prepare_config(L4S, data_root=str(root), bands=bands, crop_size=64, stage='train')
    for loader in LOADERS:
        ds = cfg[loader].dataset
        assert ds.data_root == osp.abspath(root) and list(ds.bands) == bands
    assert cfg.model.backbone.in_channels == 4 and cfg.crop_size == (64, 64)
    crops = [s for s in cfg.train_dataloader.dataset.pipeline if s['type'] == 'RandomCrop']
    assert crops and all(tuple(s['crop_size']) == (64, 64) for s in crops)
    # the same as the config's own values, crop_size from --cfg-options
    again = prepare_config(L4S, {'crop_size': (32, 32)}, data_root=str(root), stage='test')
    assert again.crop_size == (32, 32) and again.model.backbone.in_channels == 14


def test_prepare_config_checks_as_the_tools_do(tmp_path):
    with pytest.raises(DataError, match='--data-root .*: no such folder'):
        prepare_config(L4S, data_root=str(tmp_path / 'missing'))
    # the default data/l4s folder does not exist here: preflight says so, stage=None skips it
    with pytest.raises(DataError, match='data_root'):
        prepare_config(L4S, stage='train')
    cfg = prepare_config(L4S, stage=None)
    assert isinstance(cfg, Config)
    with pytest.raises(ConfigError, match='--bands: model.backbone.stream_channels'):
        prepare_config(L4S, {'model.backbone.stream_channels': [[0]]}, bands=['B2'], stage=None)
