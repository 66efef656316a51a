"""``--data-root``: :func:`lszoo.config.data_root.apply_data_root` sets every loader's dataset,
:func:`mixed_data_roots` notices loaders of one dataset type that read different folders."""
import os.path as osp
from pathlib import Path

import pytest
from helpers import REPO, load_script
from mmengine.config import Config

from lszoo.config.data_root import apply_data_root, iter_datasets, mixed_data_roots
from lszoo.errors import ConfigError, DataError

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _roots(cfg, loaders=LOADERS):
    return {key: ds['data_root'] for loader in loaders for key, ds in iter_datasets(cfg, loader)}


def test_sets_every_loader(tmp_path):
    cfg = Config.fromfile(str(Path(REPO, 'configs/timm_unet/timm_unet_cas.py')))
    keys = apply_data_root(cfg, str(tmp_path))
    assert keys == [f'{k}.dataset' for k in LOADERS]
    assert set(_roots(cfg).values()) == {str(tmp_path)}


def test_relative_and_home_paths_become_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'cas').mkdir()
    cfg = Config.fromfile(str(Path(REPO, 'configs/unet/unet_cas.py')))
    apply_data_root(cfg, 'cas')
    assert set(_roots(cfg).values()) == {osp.join(str(tmp_path), 'cas')}


def test_nested_datasets_are_set(tmp_path):
    cfg = Config.fromfile(str(Path(REPO, 'configs/unet/unet_l4s.py')))
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
    cfg = Config.fromfile(str(Path(REPO, 'configs/unet/unet_cas.py')))
    cfg.test_dataloader.dataset.data_root = str(tmp_path)
    assert len(mixed_data_roots(cfg)) == 1
    cfg.mixed_data_roots = True
    assert mixed_data_roots(cfg) == []


def test_zero_shot_config(tmp_path):
    cfg = Config.fromfile(str(Path(REPO, 'configs/geonext/geonext_zeroshot_bijie.py')))
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
    cfg = Config.fromfile(str(Path(REPO, 'configs/unet/unet_cas.py')))
    with pytest.raises(DataError, match='no such folder'):
        apply_data_root(cfg, str(tmp_path / 'missing'))
    synthetic = Config.fromfile(str(Path(REPO, 'configs/unet/unet_synthetic.py')))
    with pytest.raises(ConfigError, match='reads files'):
        apply_data_root(synthetic, str(tmp_path))


# --- through the tools -------------------------------------------------------------------------

def _tiny_run_options():
    """--cfg-options that make the full CAS config a two-iteration CPU run on 64-pixel tiles."""
    opts = ['train_cfg.max_iters=2', 'train_cfg.val_interval=2',
            'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1',
            'train_dataloader.batch_size=2', 'crop_size=(64,64)']
    for loader in LOADERS:
        opts += [f'{loader}.num_workers=0', f'{loader}.persistent_workers=False']
    return opts


def test_train_tool_data_root_with_another_encoder(tmp_path):
    """The issue's command: the timm U-Net on a CAS-layout folder with resnet18 as encoder."""
    from helpers import run_tool
    from lszoo.datasets.synthetic_writers import write_synthetic_dataset
    data = write_synthetic_dataset('cas', tmp_path / 'my_cas', num_images=4, size=64, seed=0)
    work = tmp_path / 'work'
    res = run_tool('train.py', 'configs/timm_unet/timm_unet_cas.py', '--data-root', data,
                   '--work-dir', work, '--cfg-options', 'model.backbone.model_name=resnet18',
                   *_tiny_run_options())
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout + res.stderr
    assert out.count(f'lszoo: data root {data} for train_dataloader.dataset, '
                     f'val_dataloader.dataset, test_dataloader.dataset') == 1
    import torch
    state = torch.load(work / 'iter_2.pth', map_location='cpu', weights_only=False)['state_dict']
    # the decoder was built for resnet18's widths (64, 64, 128, 256, 512): its first stage reads
    # the deepest map (512) plus the 1/16 skip (256); the base's efficientnet_b0 gives 320 + 112
    assert state['decode_head.stages.0.convs.0.conv.weight'].shape[1] == 512 + 256
    assert 'backbone.timm_model.layer4.1.conv2.weight' in state
    assert f"CASLandslideDataset: split 'train' of {data}: " in out
    assert f"CASLandslideDataset: split 'val' of {data}: " in out
    saved = Config.fromfile(str(work / 'timm_unet_cas.py'))
    assert set(_roots(saved).values()) == {str(data)}
    assert saved.model.backbone.model_name == 'resnet18'
    assert saved.train_dataloader.dataset.pipeline[1] == dict(type='RandomCrop',
                                                              crop_size=(64, 64))
    assert 'Iter(train) [1/2]' in out and 'Iter(train) [2/2]' in out


def test_train_tool_warns_about_a_child_that_changes_only_val(tmp_path, monkeypatch):
    from lszoo.config import data_root as module
    train_tool = load_script('tools/train.py')
    from lszoo.datasets.synthetic_writers import write_synthetic_dataset
    data = write_synthetic_dataset('cas', tmp_path / 'my_cas', num_images=4, size=64, seed=0)
    child = tmp_path / 'child.py'
    child.write_text(f"_base_ = ['{REPO}/configs/timm_unet/timm_unet_cas.py']\n"
                     f"train_dataloader = dict(dataset=dict(data_root='{data}'))\n"
                     f"val_dataloader = dict(dataset=dict(data_root='{data}'))\n")
    logged = []
    monkeypatch.setattr(module, 'print_log', lambda msg, **kw: logged.append(msg))
    train_tool.build_cfg(train_tool.parse_args([str(child), '--work-dir', str(tmp_path / 'w')]))
    warnings = [m for m in logged if m.startswith('lszoo: warning:')]
    assert len(warnings) == 1
    assert str(child) in warnings[0] and "test_dataloader.dataset: 'data/cas'" in warnings[0]
    # with --data-root the loaders agree and nothing is reported
    logged.clear()
    cfg = train_tool.build_cfg(train_tool.parse_args(
        [str(child), '--work-dir', str(tmp_path / 'w'), '--data-root', str(data)]))
    assert not [m for m in logged if m.startswith('lszoo: warning:')]
    assert cfg.test_dataloader.dataset.data_root == str(data)


def test_compare_tool_passes_data_root_to_the_test_loader(tmp_path):
    """tools/analysis_tools/compare.py --data-root reaches apply_data_root (here: its error for a
    config whose data lives in memory, raised before anything is built)."""
    from lszoo.benchmark import compare
    with pytest.raises(ConfigError, match='--data-root .* reads files'):
        compare.evaluate('u', str(Path(REPO, 'configs/unet/unet_synthetic.py')), 'none.pth',
                         str(tmp_path / 'w'), data_root=str(tmp_path))
