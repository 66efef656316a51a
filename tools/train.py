#!/usr/bin/env python
"""Train a segmentor from an lszoo (mmsegmentation) config.

Same command line as mmsegmentation's ``tools/train.py``::

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CHECKPOINT]] [--amp]
                          [--cfg-options KEY=VALUE ...] [--launcher none|pytorch|slurm|mpi]

plus ``--data-root PATH`` (the dataset's folder, for every loader), ``--trust-checkpoint`` (load
a resume / ``load_from`` checkpoint as a full pickle) and ``--no-test`` (skip the test run that
configs with ``test_after_train = True`` do after training, e.g.
``configs/demo/unet_synthetic.py``).

Bad input (a missing data_root, an unknown model type, a channel count that differs between data
and model, a file that is not a checkpoint) ends with one message on stderr and exit code 2.
Several processes: ``tools/dist_train.sh CONFIG NPROC`` (gloo on a machine without CUDA).
"""
import argparse
import os
import os.path as osp
import sys


def parse_args(argv=None):
    from mmengine.config import DictAction

    parser = argparse.ArgumentParser(description='Train a landslide segmentor (lszoo)')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='folder for logs and checkpoints '
                        '(default: ./work_dirs/<config name>)')
    parser.add_argument(
        '--resume', nargs='?', const='auto', default=None, metavar='CHECKPOINT',
        help='resume from CHECKPOINT, or, without a value, from the latest checkpoint in the '
        'work dir')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys, e.g. train_cfg.max_iters=100 '
        'train_dataloader.dataset.data_root=/data/l4s')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument(
        '--trust-checkpoint', action='store_true',
        help='load checkpoints with full unpickling (can run code from the file: only for '
        'files you trust)')
    parser.add_argument('--no-test', action='store_true',
                        help='do not run the test split after training')
    from lszoo.cli.data_root import add_data_root_arg
    add_data_root_arg(parser)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_cfg(args):
    from lszoo.apis.preflight import load_config, preflight

    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        import torch
        if not torch.cuda.is_available():
            from lszoo.errors import ConfigError
            raise ConfigError('--amp needs a CUDA GPU (mmengine\'s AmpOptimWrapper); this '
                              'machine has none: train without --amp')
        wrapper_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper_type == 'AmpOptimWrapper':
            print('lszoo: AMP is already enabled in the config', file=sys.stderr)
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            from lszoo.errors import CheckpointError
            raise CheckpointError(f'--resume: checkpoint file {args.resume} does not exist')
        cfg.resume = True
        cfg.load_from = args.resume
    from lszoo.cli.data_root import apply_data_options
    loaders = ['train_dataloader', 'val_dataloader']
    if cfg.get('test_after_train', False) and not args.no_test:
        loaders.append('test_dataloader')
    apply_data_options(cfg, args, loaders, args.config)
    preflight(cfg, args.config, stage='train')
    return cfg


def train(args):
    from mmengine.runner import Runner
    from mmseg.registry import RUNNERS

    from lszoo.apis.preflight import enable_trust, format_metrics, setup_cpu_distributed

    if args.trust_checkpoint:
        enable_trust()
    cfg = build_cfg(args)
    setup_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()
    if cfg.get('test_after_train', False) and not args.no_test:
        metrics = runner.test()
        if runner.rank == 0:
            print(format_metrics(metrics, title='test'), flush=True)
    return 0


def main(argv=None) -> int:
    from lszoo.apis.preflight import run_tool
    return run_tool(train, parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
