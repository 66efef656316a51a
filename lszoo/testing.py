"""Helpers for tests: turn any experiment config into a tiny CPU run.

:func:`shrink_config` keeps the model and the data pipeline of a config (so a test exercises the
real experiment) but cuts the run to a couple of iterations on a few small crops, with batch 2,
no worker processes and validation/testing still wired up.
"""
import copy
import os.path as osp
from typing import Optional

from mmengine.config import Config, ConfigDict

# pipeline transforms whose size arguments are shrunk to the test crop, and the key holding it
_SIZE_KEYS = {
    'RandomCrop': 'crop_size',
    'Resize': 'scale',
    'RandomResize': 'scale',
    'RandomChoiceResize': None,  # scales list: replaced by a single crop-sized scale
}


def _datasets_of(dataset_cfg):
    """Yield every leaf dataset dict of a (possibly wrapped) dataset config."""
    if dataset_cfg is None:
        return
    if 'datasets' in dataset_cfg:  # ConcatDataset
        for sub in dataset_cfg['datasets']:
            yield from _datasets_of(sub)
    elif 'dataset' in dataset_cfg:  # RepeatDataset, ClassBalancedDataset, MultiImageMixDataset
        yield from _datasets_of(dataset_cfg['dataset'])
    else:
        yield dataset_cfg


def _shrink_pipeline(pipeline, crop: int) -> None:
    for t in pipeline or []:
        ttype = t.get('type') if isinstance(t, dict) else None
        if ttype not in _SIZE_KEYS:
            continue
        if ttype == 'RandomChoiceResize':
            t['scales'] = [(crop, crop)]
        elif ttype == 'RandomResize':
            t['scale'] = (crop, crop)
        elif ttype == 'Resize':
            if 'scale' in t:
                t['scale'] = (crop, crop)
            if 'scale_factor' in t:
                t.pop('scale_factor')
                t['scale'] = (crop, crop)
        else:
            t[_SIZE_KEYS[ttype]] = (crop, crop)
        # a size-shrinking transform may keep the aspect ratio and exceed nothing: fine


def _shrink_dataset(ds: dict, crop: int, num_samples: int, data_root: Optional[str]) -> None:
    if data_root is not None and 'num_samples' not in ds:  # file-based datasets
        ds['data_root'] = data_root
    if 'num_samples' in ds:  # in-memory synthetic data: few small scenes
        ds['num_samples'] = num_samples
        if 'size' in ds:
            ds['size'] = max(crop, 32)
    else:  # file-based: the first few samples (mmengine BaseDataset `indices`)
        ds['indices'] = num_samples
    _shrink_pipeline(ds.get('pipeline'), crop)


def _shrink_loader(loader: dict, batch_size: int, num_workers: int, crop: int,
                   num_samples: int, data_root: Optional[str], train: bool) -> None:
    loader['batch_size'] = batch_size if train else 1
    loader['num_workers'] = num_workers
    loader['persistent_workers'] = False if num_workers == 0 else loader.get(
        'persistent_workers', False)
    if num_workers == 0:
        loader.pop('prefetch_factor', None)
    for ds in _datasets_of(loader.get('dataset')):
        _shrink_dataset(ds, crop, num_samples, data_root)


def shrink_config(cfg, work_dir, data_root: Optional[str] = None, iters: int = 2,
                  batch_size: int = 2, crop: int = 64, num_workers: int = 0) -> Config:
    """Return a copy of ``cfg`` that trains ``iters`` iterations on CPU-sized inputs.

    Args:
        cfg: a :class:`mmengine.config.Config` or a config file path.
        work_dir: where the run writes logs and checkpoints.
        data_root: if given, replaces every dataset's ``data_root`` (e.g. a tiny synthetic copy
            written by ``lszoo.datasets.synthetic_writers.write_synthetic_dataset``).
        iters: training iterations; validation runs once at the end and a checkpoint is saved.
        batch_size: training batch size (validation and test use 1).
        crop: side of the square crops / resizes in every pipeline and of synthetic scenes.
        num_workers: data loader workers (0: load in the main process).

    Returns:
        A new :class:`Config`; ``cfg`` is not modified.
    """
    if isinstance(cfg, str):
        cfg = Config.fromfile(cfg)
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = osp.abspath(str(work_dir))
    num_samples = max(2 * batch_size, 2)

    cfg.train_cfg = ConfigDict(type='IterBasedTrainLoop', max_iters=iters, val_interval=iters)
    if cfg.get('val_cfg') is None and cfg.get('val_dataloader') is not None:
        cfg.val_cfg = ConfigDict(type='ValLoop')
    if cfg.get('test_cfg') is None:
        cfg.test_cfg = ConfigDict(type='TestLoop')
    # schedulers written for long runs: keep them but end them within the run
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for s in schedulers:
        if 'begin' in s:
            s['begin'] = min(s['begin'], max(iters - 1, 0))
        if 'end' in s:
            s['end'] = iters
        s['by_epoch'] = False

    for key, train in (('train_dataloader', True), ('val_dataloader', False),
                       ('test_dataloader', False)):
        if cfg.get(key) is not None:
            _shrink_loader(cfg[key], batch_size, num_workers, crop, num_samples, data_root,
                           train)

    hooks = cfg.get('default_hooks') or ConfigDict()
    if 'logger' in hooks:
        hooks.logger['interval'] = 1
    if 'checkpoint' in hooks:
        hooks.checkpoint.update(by_epoch=False, interval=iters, max_keep_ckpts=2)
        hooks.checkpoint.pop('save_best', None)
    if 'visualization' in hooks:
        hooks.visualization['draw'] = False
    cfg.default_hooks = hooks

    # sliding-window inference sized for real scenes: use the test crop
    model = cfg.get('model')
    if model is not None:
        test_cfg = model.get('test_cfg')
        if test_cfg is not None and test_cfg.get('mode') == 'slide':
            test_cfg['crop_size'] = (crop, crop)
            test_cfg['stride'] = (crop // 2, crop // 2)
        pre = model.get('data_preprocessor')
        if pre is not None and pre.get('size') is not None:
            pre['size'] = (crop, crop)
        backbone = model.get('backbone')
        if backbone is not None and backbone.get('pretrained'):
            backbone['pretrained'] = False  # tests never download weights
        if backbone is not None and backbone.get('compile_frozen'):
            backbone['compile_frozen'] = False  # a few steps never repay compiling

    cfg.env_cfg = cfg.get('env_cfg') or ConfigDict()
    cfg.env_cfg['cudnn_benchmark'] = False
    cfg.env_cfg['mp_cfg'] = dict(mp_start_method='fork', opencv_num_threads=0)
    cfg.log_level = 'WARNING'
    cfg.launcher = 'none'
    return cfg
