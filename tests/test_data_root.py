"""``--data-root``: :func:`lszoo.cli.data_root.apply_data_root` sets every loader's dataset,
:func:`mixed_data_roots` notices loaders of one dataset type that read different folders."""
import os.path as osp
from pathlib import Path

import pytest
from mmengine.config import Config

import lszoo
from lszoo.cli.data_root import apply_data_root, iter_datasets, mixed_data_roots
from lszoo.errors import ConfigError, DataError

REPO = Path(lszoo.__file__).resolve().parents[1]
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _roots(cfg, loaders=LOADERS):
    return {key: ds['data_root'] for loader in loaders for key, ds in iter_datasets(cfg, loader)}


def test_sets_every_loader(tmp_path):
    cfg = Config.fromfile(str(REPO / 'configs/timm_unet/timm_unet_cas.py'))
    keys = apply_data_root(cfg, str(tmp_path))
    assert keys == [f'{k}.dataset' for k in LOADERS]
    assert set(_roots(cfg).values()) == {str(tmp_path)}


def test_relative_and_home_paths_become_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'cas').mkdir()
    cfg = Config.fromfile(str(REPO / 'configs/unet/unet_cas.py'))
    apply_data_root(cfg, 'cas')
    assert set(_roots(cfg).values()) == {osp.join(str(tmp_path), 'cas')}


def test_nested_datasets_are_set(tmp_path):
    cfg = Config.fromfile(str(REPO / 'configs/unet/unet_l4s.py'))
    inner = cfg.train_dataloader.dataset
    cfg.train_dataloader.dataset = dict(type='ConcatDataset', datasets=[
        dict(type='RepeatDataset', times=3, dataset=inner), inner])
    keys = apply_data_root(cfg, str(tmp_path))
    assert 'train_dataloader.dataset.datasets.0.dataset' in keys
    assert 'train_dataloader.dataset.datasets.1' in keys
    roots = _roots(cfg)
    assert len(roots) == 4 and set(roots.values()) == {str(tmp_path)}


def test_child_overriding_only_val_is_reported(tmp_path):
    other = tmp_path / 'my_cas'
    other.mkdir()
    child = tmp_path / 'child.py'
    child.write_text(f"_base_ = ['{REPO}/configs/timm_unet/timm_unet_cas.py']\n"
                     f"val_dataloader = dict(dataset=dict(data_root='{other}'))\n")
    cfg = Config.fromfile(str(child))
    # the base's `test_dataloader = val_dataloader` did not follow the child
    assert cfg.test_dataloader.dataset.data_root == 'data/cas'
    messages = mixed_data_roots(cfg)
    assert len(messages) == 1
    msg = messages[0]
    assert 'CASLandslideDataset' in msg and str(other) in msg and "'data/cas'" in msg
    assert 'test_dataloader.dataset' in msg and 'val_dataloader.dataset' in msg
    assert '--data-root' in msg
    # --data-root makes the loaders consistent
    apply_data_root(cfg, str(other))
    assert mixed_data_roots(cfg) == []
    assert cfg.test_dataloader.dataset.data_root == str(other)


def test_intended_mixed_roots_are_not_reported(tmp_path):
    cfg = Config.fromfile(str(REPO / 'configs/unet/unet_cas.py'))
    cfg.test_dataloader.dataset.data_root = str(tmp_path)
    assert len(mixed_data_roots(cfg)) == 1
    cfg.mixed_data_roots = True
    assert mixed_data_roots(cfg) == []


def test_zero_shot_config(tmp_path):
    cfg = Config.fromfile(str(REPO / 'configs/geonext/geonext_zeroshot_bijie.py'))
    # CAS for training, Bijie for testing: different datasets, not a mistake
    assert mixed_data_roots(cfg) == []
    with pytest.raises(ConfigError, match='CASLandslideDataset.*BijieDataset'):
        apply_data_root(cfg, str(tmp_path))
    # testing reads the Bijie loader only: --data-root sets it and leaves CAS alone
    assert apply_data_root(cfg, str(tmp_path), loaders=['test_dataloader']) == \
        ['test_dataloader.dataset']
    assert cfg.train_dataloader.dataset.data_root == 'data/cas'
    assert cfg.test_dataloader.dataset.data_root == str(tmp_path)


def test_bad_input(tmp_path):
    cfg = Config.fromfile(str(REPO / 'configs/unet/unet_cas.py'))
    with pytest.raises(DataError, match='no such folder'):
        apply_data_root(cfg, str(tmp_path / 'missing'))
    synthetic = Config.fromfile(str(REPO / 'configs/unet/unet_synthetic.py'))
    with pytest.raises(ConfigError, match='reads files'):
        apply_data_root(synthetic, str(tmp_path))
