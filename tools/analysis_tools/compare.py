#!/usr/bin/env python
"""One table over several trained models: every metric protocol, size and speed side by side.

    python tools/analysis_tools/compare.py CONFIG CHECKPOINT [CONFIG CHECKPOINT ...]
        --out-dir DIR [--work-dir DIR] [--names NAME ...] [--threshold P] [--shape H W]
        [--bootstrap N] [--runs R] [--warmup K] [--threads T] [--device cpu|cuda] [--data-root PATH]
        [--cfg-options KEY=VALUE ...] [--trust-checkpoint]

CHECKPOINT is a ``.pth`` file or a work dir (its ``last_checkpoint`` record, else the highest
``iter_N.pth`` / ``epoch_N.pth``). For each model the config's test split is run once through
mmengine's ``Runner`` test loop with ``LandslideMetric``, which reports the three protocols the
landslide papers use (docs/metrics.md): standard landslide-class ``IoU F1 Precision Recall``,
GeoNeXt's two-class means ``mIoU mF1`` and DiGATe's per-image means ``imgIoU imgF1``. Parameters,
FLOPs and latency come from ``tools/analysis_tools/benchmark.py`` (one forward pass of a ``1 x C x H
x W`` input, C the config's own channel count, H x W the config's crop unless ``--shape``).

The same name given to several pairs (by default: one config given with several checkpoints, e.g.
one per training seed) marks runs of one config: each run gets its row and the Markdown adds their
mean ± sample standard deviation. ``--bootstrap N`` (or a config whose ``LandslideMetric`` sets
``bootstrap``) adds percentile bootstrap intervals: cells read ``value [low, high]`` and the CSV
gains ``<key>_ci_low`` / ``<key>_ci_high``.

Writes ``DIR/comparison.md``, ``DIR/comparison.csv`` and ``DIR/comparison.png`` (landslide IoU
against latency). Bad input (missing config or checkpoint, a test split that is not on disk)
ends with one message and exit code 2.
"""
import argparse
import os.path as osp
import sys

from lszoo.benchmark.compare import compare, split_pairs


def parse_args(argv=None):
    from lszoo.cli.tool import CfgOptionsAction

    from lszoo.cli.tool import add_trust_arg

    p = argparse.ArgumentParser(description='Compare trained landslide segmentors in one table')
    p.add_argument('pairs', nargs='+', metavar='CONFIG CHECKPOINT',
                   help='config file and checkpoint (file or work dir), repeated')
    p.add_argument('--out-dir', required=True, help='folder for comparison.{md,csv,png}')
    p.add_argument('--work-dir', default=None,
                   help="folder for the test runs' logs and config dumps, one per model "
                   '(default: OUT_DIR/runs)')
    p.add_argument('--names', nargs='+', help='row names (default: config file stems)')
    p.add_argument('--threshold', type=float, default=None,
                   help='landslide probability threshold for every model (default: each '
                   "model head's own threshold)")
    p.add_argument('--bootstrap', type=int, default=None, metavar='N',
                   help='percentile bootstrap intervals over the test images with N '
                   "replicates (LandslideMetric's bootstrap): table cells read value [low, high]")
    p.add_argument('--shape', nargs=2, type=int, metavar=('H', 'W'),
                   help='benchmark input size (default: the config crop)')
    p.add_argument('--runs', type=int, default=10, help='timed forward passes')
    p.add_argument('--warmup', type=int, default=3, help='untimed forward passes first')
    p.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'],
                   help='device for the latency measurement')
    p.add_argument('--title', default='Model comparison', help='heading of the Markdown table')
    p.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                   help='overrides applied to every config, e.g. '
                   'test_dataloader.dataset.data_root=/data/l4s')
    add_trust_arg(p)
    from lszoo.cli.tool import add_data_root_arg
    add_data_root_arg(p)
    return p.parse_args(argv)


def run(args) -> int:
    import torch

    from lszoo.cli.tool import enable_trust
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.trust_checkpoint:
        enable_trust()
    models = split_pairs(args.pairs, args.names)
    command = 'python tools/analysis_tools/compare.py ' + ' '.join(args.argv)
    rows = compare(models, args.out_dir, args.cfg_options, args.threshold, args.shape,
                   args.runs, args.warmup, args.device, args.title, command,
                   data_root=args.data_root, work_dir=args.work_dir,
                   bootstrap=args.bootstrap)
    with open(osp.join(args.out_dir, 'comparison.md')) as f:
        print(f.read())
    print(f'compare: wrote {len(rows)} rows to {args.out_dir}/comparison.{{md,csv,png}}')
    return 0


def main(argv=None) -> int:
    from lszoo.cli.tool import run_main
    return run_main(run, parse_args, argv)


if __name__ == '__main__':
    sys.exit(main())
