"""Is data loading the bottleneck? Train the demo model on L4S-format data and compare mmengine's
``data_time`` (waiting for the next batch) with the whole iteration time.

    python tools/analysis_tools/benchmark_dataloader.py   # synthetic L4S copy, batch 8, 2 workers
    python tools/analysis_tools/benchmark_dataloader.py --data-root data/l4s --iters 60

Without ``--data-root`` it writes a synthetic copy in the exact L4S layout (14-band float64 h5,
128x128) to a temporary folder. The model is the demo U-Net of configs/demo/unet_synthetic.py
with 14 input channels; data come through configs/_base_/datasets/l4s.py's training pipeline.
Prints the mean data_time, iteration time and their ratio over the iterations after warm-up,
and the loader alone (no model) in samples per second.
"""
import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]  # the checkout's configs


def build_cfg(data_root: str, work_dir: str, iters: int, batch: int, workers: int):
    from mmengine.config import Config
    demo = Config.fromfile(str(REPO / 'configs/demo/unet_synthetic.py'))
    data = Config.fromfile(str(REPO / 'configs/_base_/datasets/l4s.py'))
    cfg = demo
    cfg.model.backbone.in_channels = data.in_channels
    loader = data.train_dataloader
    loader.update(batch_size=batch, num_workers=workers, persistent_workers=workers > 0)
    loader.dataset.data_root = data_root
    cfg.train_dataloader = loader
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=iters + 1)
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.custom_hooks = []
    cfg.test_after_train = False
    cfg.default_hooks.logger.interval = max(iters, 1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=iters + 1)
    cfg.default_hooks.visualization = dict(type='SegVisualizationHook', draw=False)
    cfg.work_dir = work_dir
    cfg.log_level = 'WARNING'
    return cfg


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data-root', help='L4S root (default: a synthetic copy in a temp folder)')
    ap.add_argument('--iters', type=int, default=25)
    ap.add_argument('--warmup', type=int, default=5)
    ap.add_argument('--batch-size', type=int, default=8)
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--num-images', type=int, default=64, help='synthetic copy size')
    return ap.parse_args(argv)


def run(args) -> int:
    import torch
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner

    import lszoo  # noqa: F401
    from lszoo.datasets.synthetic_writers import write_synthetic_dataset
    from lszoo.engine import build_runner

    tmp = tempfile.mkdtemp(prefix='lszoo_bench_')
    data_root = args.data_root
    if data_root is None:
        data_root = str(write_synthetic_dataset('l4s', Path(tmp) / 'l4s',
                                                num_images=args.num_images, size=128))
    init_default_scope('mmseg')
    cfg = build_cfg(data_root, str(Path(tmp) / 'work'), args.iters, args.batch_size,
                    args.workers)

    # 1) the loader alone
    loader = Runner.build_dataloader(cfg.train_dataloader)
    it = iter(loader)
    next(it)
    t0, n = time.perf_counter(), 0
    for _ in range(10):
        n += len(next(it)['inputs'])
    loader_rate = n / (time.perf_counter() - t0)
    del it, loader

    # 2) training the demo model
    runner = build_runner(cfg)
    runner.train()
    hub = runner.message_hub
    data_t = np.asarray(hub.get_scalar('train/data_time').data[0])[args.warmup:]
    iter_t = np.asarray(hub.get_scalar('train/time').data[0])[args.warmup:]
    print(f'device: cpu, torch threads {torch.get_num_threads()}; data: {data_root}; '
          f'batch {args.batch_size}, workers {args.workers}, 128x128x14, '
          f'{len(iter_t)} iterations after {args.warmup} warm-up')
    print(f'loader alone: {loader_rate:.0f} samples/s')
    print(f'data_time mean {data_t.mean() * 1000:.1f} ms, iteration time mean '
          f'{iter_t.mean() * 1000:.1f} ms, data_time / iteration = '
          f'{100 * data_t.mean() / iter_t.mean():.1f} %')
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def main(argv=None) -> int:
    from lszoo.cli.tool import run_tool
    return run_tool(run, parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
