"""``crop_size``: one value (a config variable or --cfg-options crop_size=...) sets the train
crop, applied by :func:`lszoo.config.crop_size.apply_crop_size`."""
from pathlib import Path

import pytest
from helpers import REPO
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from lszoo.config.crop_size import apply_crop_size, normalize_crop_size
from lszoo.datasets.synthetic_writers import write_synthetic_dataset
from lszoo.errors import ConfigError


init_default_scope('mmseg')


def _crops(cfg):
    return [tuple(t['crop_size']) for t in cfg.train_dataloader.dataset.pipeline
            if t['type'] == 'RandomCrop']


def _first_sample_shape(cfg, root):
    ds = dict(cfg.train_dataloader.dataset, data_root=str(root))
    return tuple(DATASETS.build(ds)[0]['inputs'].shape[1:])


@pytest.mark.parametrize('name, size', [('cas', (512, 512)), ('gvlm', (256, 256)),
                                        ('l4s', (128, 128)), ('bijie', (256, 256))])
def test_each_dataset_base_crops_to_its_crop_size(name, size):
    cfg = Config.fromfile(str(Path(REPO, 'configs/_base_/datasets', f'{name}.py')))
    assert cfg.crop_size == size
    assert _crops(cfg) == [size]
    assert apply_crop_size(cfg) == []  # already consistent: nothing to change


def test_cfg_option_crop_size_changes_the_training_crop(tmp_path):
    root = write_synthetic_dataset('cas', tmp_path / 'cas', num_images=3, size=96, seed=0)
    cfg = Config.fromfile(str(Path(REPO, 'configs/timm_unet/timm_unet_cas.py')))
    assert _first_sample_shape(cfg, root) == (96, 96)  # 512 crop of a 96 tile: the whole tile
    cfg.merge_from_dict({'crop_size': (64, 48)})  # what --cfg-options crop_size="(64,48)" does
    assert _crops(cfg) == [(512, 512)]  # mmengine alone leaves the pipeline as parsed
    changed = apply_crop_size(cfg, (64, 48))
    assert changed == ['train_dataloader dataset 0 pipeline[1].crop_size']
    assert _crops(cfg) == [(64, 48)]
    # (height, width) = (64, 48), or (48, 64) after the pipeline's RandomRot90
    assert sorted(_first_sample_shape(cfg, root)) == [48, 64]
    # validation and test read whole tiles
    assert not any(t['type'] == 'RandomCrop' for t in cfg.val_dataloader.dataset.pipeline)


def test_child_config_crop_size_variable_reaches_the_pipeline(tmp_path):
    child = tmp_path / 'child.py'
    child.write_text(f"_base_ = ['{REPO}/configs/timm_unet/timm_unet_gvlm.py']\n"
                     "crop_size = (128, 128)\n")
    cfg = Config.fromfile(str(child))
    assert _crops(cfg) == [(256, 256)]
    apply_crop_size(cfg)
    assert _crops(cfg) == [(128, 128)]


def test_wrapped_training_datasets_and_preprocessor_size_follow():
    cfg = Config.fromfile(str(Path(REPO, 'configs/unet/unet_l4s.py')))
    inner = cfg.train_dataloader.dataset
    cfg.train_dataloader.dataset = dict(type='ConcatDataset', datasets=[
        dict(type='RepeatDataset', times=2, dataset=inner), inner])
    cfg.model.data_preprocessor.size = (128, 128)
    apply_crop_size(cfg, 64)
    leaves = [cfg.train_dataloader.dataset.datasets[0].dataset,
              cfg.train_dataloader.dataset.datasets[1]]
    for ds in leaves:
        assert [tuple(t['crop_size']) for t in ds.pipeline if t['type'] == 'RandomCrop'] \
            == [(64, 64)]
    assert cfg.model.data_preprocessor.size == (64, 64)


def test_patch_sized_l4s_is_unchanged(tmp_path):
    root = write_synthetic_dataset('l4s', tmp_path / 'l4s', num_images=2, size=128, seed=0)
    cfg = Config.fromfile(str(Path(REPO, 'configs/unet/unet_l4s.py')))
    apply_crop_size(cfg)
    assert _first_sample_shape(cfg, root) == (128, 128)


def test_explicit_crop_size_without_a_crop_step_is_an_error():
    cfg = Config.fromfile(str(Path(REPO, 'configs/geonext/geonext_l4s.py')))  # own pipeline
    assert apply_crop_size(cfg) == []  # the config's own value: nothing to do, no error
    with pytest.raises(ConfigError, match='no RandomCrop'):
        apply_crop_size(cfg, (64, 64))


@pytest.mark.parametrize('bad', [(0, 64), (64,), 'big', (64.0, 64), True])
def test_bad_crop_size_is_a_clear_error(bad):
    with pytest.raises(ConfigError, match='crop_size must be'):
        normalize_crop_size(bad)
