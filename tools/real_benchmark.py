#!/usr/bin/env python
"""Train every light config on 24 real Bijie images under one budget and test on 12 more.

    python tools/real_benchmark.py [--data ../shared/realdata/bijie_mini] [--iters 300]
                                   [--batch 4] [--crop 256] [--recipe config|bce_dice]
                                   [--only NAME ...] [--no-yardstick] [--threads 2]
                                   [--work-root work_dirs/real_benchmark] [--out DIR]
                                   [--seed 42] [--cfg-options KEY=VALUE ...]

The data stay outside the repository; see lszoo/cli/real_benchmark.py for the split rule and
the budget, and docs/benchmarks/real.md for the committed results. The yardstick row needs
segmentation_models_pytorch (benchmark only: pip install segmentation-models-pytorch).
"""
import argparse
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv=None):
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(description='Real Bijie learning benchmark (lszoo)')
    p.add_argument('--data', default=osp.join(REPO, '..', 'shared', 'realdata', 'bijie_mini'),
                   help='folder with image/*.png and mask/*.png (default '
                   '../shared/realdata/bijie_mini)')
    p.add_argument('--iters', type=int, default=300, help='training iterations per model')
    p.add_argument('--batch', type=int, default=4, help='training batch size')
    p.add_argument('--crop', type=int, default=256, help='training crop side')
    p.add_argument('--recipe', default='config', help="'config' (each config's own loss and "
                   "schedule) or 'bce_dice' (BCE + Dice, Adam 1e-3, warm-up + poly)")
    p.add_argument('--only', nargs='+', metavar='NAME', help="run only these models ('yardstick' "
                   'alone: only the yardstick)')
    p.add_argument('--no-yardstick', dest='yardstick', action='store_false',
                   help='skip the segmentation_models_pytorch U-Net ResNet-18 row')
    p.add_argument('--threads', type=int, default=2, help='torch / OpenMP threads')
    p.add_argument('--work-root', default='work_dirs/real_benchmark',
                   help='split files and one work dir per model below this folder')
    p.add_argument('--out', help='folder for real.md and rows.json (default '
                   '<work-root>/<recipe>)')
    p.add_argument('--seed', type=int, default=42,
                   help='seed of every training, the yardstick included (default 42)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                   help='merged into every lszoo config after the recipe (not the yardstick), '
                   'e.g. param_scheduler=None or model.decode_head.upsample_mode=bilinear')
    return p.parse_args(argv)


def main(argv=None) -> int:
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    from lszoo.cli.real_benchmark import run
    from lszoo.cli.tool import run_tool
    args = parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)
    return run_tool(run, args)


if __name__ == '__main__':
    sys.exit(main())
