"""Every experiment config under ``configs/`` builds, trains one step and tests on synthetic data.

Configs are discovered by glob (every ``configs/<method>/*.py``; ``_base_`` is skipped), so a new
method folder is covered without touching this file. A config whose dataset reads files gets a
tiny copy of that dataset in its public on-disk layout
(:func:`lszoo.datasets.synthetic_writers.write_synthetic_dataset`, written once per dataset type
and session); the in-memory synthetic dataset needs none. :func:`lszoo.testing.shrink_config`
turns each experiment into a one-iteration CPU run on 64x64 inputs, keeping its model, loss,
pipeline and metric.
"""
import glob
import math
import os.path as osp

import pytest
import torch
from helpers import REPO, load_script

CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
    if osp.basename(osp.dirname(p)) != '_base_')

#: dataset class -> name understood by write_synthetic_dataset (None: in memory, no files)
WRITER_NAMES = {
    'L4SDataset': 'l4s',
    'BijieDataset': 'bijie',
    'CASLandslideDataset': 'cas',
    'GVLMDataset': 'gvlm',
    'SyntheticLandslideDataset': None,
    'InventoryDataset': 'inventory',
    'Sen12LandslidesDataset': 'sen12',
}
METRIC_KEYS = ('IoU', 'F1', 'Precision', 'Recall', 'mIoU', 'mF1', 'imgIoU', 'imgF1')
CROP = 64


def _cut_gvlm_tiles(root: str, tile_dir: str) -> None:
    """GVLM configs read tiles cut from the scenes by tools/dataset_converters/gvlm.py; cut the
    tiny scenes into ``CROP``-sized tiles under the folder name the config expects."""
    if osp.isdir(osp.join(root, tile_dir)):
        return
    mod = load_script('tools/dataset_converters/gvlm.py')
    mod.convert(root, osp.join(root, tile_dir), size=CROP, overlap=0)


def _leaf_dataset(ds):
    while 'dataset' in ds or 'datasets' in ds:
        ds = ds['dataset'] if 'dataset' in ds else ds['datasets'][0]
    return ds


@pytest.fixture(scope='session')
def dataset_roots(tmp_path_factory):
    """Factory: the root of a tiny on-disk copy of a dataset, written once per session."""
    from lszoo.datasets.synthetic_writers import write_synthetic_dataset
    roots = {}

    def get(name):
        if name not in roots:
            root = tmp_path_factory.mktemp(f'data_{name}')
            roots[name] = str(write_synthetic_dataset(name, root, num_images=8, size=CROP,
                                                      seed=0))
        return roots[name]

    return get


def test_configs_are_discovered():
    """The glob finds the baselines of every dataset (guards against a silently empty list)."""
    names = {osp.relpath(p, osp.join(REPO, 'configs')) for p in CONFIGS}
    for method in ('unet/unet', 'deeplabv3plus/deeplabv3plus', 'segformer/segformer',
                   'timm_unet/timm_unet'):
        for ds in ('l4s', 'bijie', 'cas', 'gvlm'):
            assert f'{method}_{ds}.py' in names
    assert not any(n.startswith('_base_') for n in names)


def test_the_baselines_recipe_keeps_the_best_validation_checkpoint():
    """Every config on the baselines' schedule (its phases are fractions of the run) keeps the
    checkpoint with the best validation landslide IoU, a key its validation metric reports."""
    from mmengine.config import Config
    found = 0
    for path in CONFIGS:
        cfg = Config.fromfile(path)
        scheds = cfg.get('param_scheduler') or []
        if not any('end_fraction' in s for s in scheds if isinstance(scheds, list)):
            continue
        found += 1
        checkpoint = cfg.default_hooks.checkpoint
        assert (checkpoint.get('save_best'), checkpoint.get('rule')) == ('IoU', 'greater'), path
        assert cfg.val_evaluator.type == 'LandslideMetric', path  # reports 'IoU'
    assert found >= 20  # the glob reached the baselines


@pytest.mark.parametrize('config', CONFIGS,
                         ids=[osp.relpath(p, osp.join(REPO, 'configs')) for p in CONFIGS])
def test_config_trains_one_step_and_tests(config, tmp_path, dataset_roots):
    from mmengine.config import Config

    from lszoo.engine import build_runner
    from lszoo.testing import shrink_config

    cfg = shrink_config(Config.fromfile(config), tmp_path / 'work_dir', iters=1, batch_size=2,
                        crop=CROP)
    # the paper-size models' checkpoints with Adam state reach 500 MB: weights are enough here
    cfg.default_hooks.checkpoint.save_optimizer = False
    # each loader reads a tiny copy of its own dataset (zero-shot configs test on another one)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key) is None:
            continue
        ds = _leaf_dataset(cfg[key].dataset)
        assert ds['type'] in WRITER_NAMES, f'{config}: no synthetic writer for {ds["type"]}'
        writer = WRITER_NAMES[ds['type']]
        if writer is None:
            continue
        ds['data_root'] = dataset_roots(writer)
        if writer == 'inventory':  # 256-pixel 10 m scenes: 64-pixel windows, 640 m blocks
            ds.update(window_size=CROP, block_size=10 * CROP, num_windows=4)
        if writer == 'gvlm':
            _cut_gvlm_tiles(ds['data_root'], ds.get('tile_dir', 'tiles_256'))
        # the model reads as many channels as the dataset gives (no hard-coded 3)
        backbone = cfg.model.get('backbone', {})
        if ds.get('bands') is not None and 'in_channels' in backbone:
            assert backbone['in_channels'] == len(ds['bands']), (
                f'{config}: backbone in_channels {backbone["in_channels"]} but {key} reads '
                f'{len(ds["bands"])} bands {list(ds["bands"])}')
    # fine-tuning / zero-shot configs name a checkpoint of an earlier run that a test cannot have
    cfg.load_from = None
    if cfg.model.get('backbone', {}).get('eo_weights'):  # EO weights cannot be downloaded here
        cfg.model.backbone.eo_weights = None

    runner = build_runner(cfg)
    runner.train()
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert math.isfinite(loss), f'{config}: non-finite training loss {loss}'
    assert osp.isfile(osp.join(cfg.work_dir, 'iter_1.pth'))

    metrics = runner.test()
    for key in METRIC_KEYS:
        assert key in metrics, f'{config}: test metrics lack {key}: {sorted(metrics)}'
        value = metrics[key]
        assert math.isnan(value) or 0.0 <= value <= 100.0, f'{config}: {key}={value}'
    # the model predicts one binary map per image at the input size
    batch = next(iter(runner.test_dataloader))
    with torch.no_grad():
        out = runner.model.test_step(batch)[0]
    assert out.pred_sem_seg.data.shape[-2:] == out.gt_sem_seg.data.shape[-2:]
    assert set(out.pred_sem_seg.data.unique().tolist()) <= {0, 1}
