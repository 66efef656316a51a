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
import os.path as osp
import sys


def parse_args(argv=None):
    from lszoo.cli.tool import add_run_args, parse_run_args

    parser = argparse.ArgumentParser(description='Train a landslide segmentor (lszoo)')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume', nargs='?', const='auto', default=None, metavar='CHECKPOINT',
        help='resume from CHECKPOINT, or, without a value, from the latest checkpoint in the '
        'work dir')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision: fp16 on CUDA (AmpOptimWrapper), bf16 autocast on '
                        'the CPU (CPUAutocastOptimWrapper)')
    parser.add_argument('--no-test', action='store_true',
                        help='do not run the test split after training')
    parser.add_argument('--bands', nargs='+', metavar='NAME',
                        help='use these bands in every dataloader and the model, e.g. '
                        '--bands B2 B3 B4 B8 (docs/safety.md, "Bands")')
    parser.add_argument('--partial-load', action='store_true',
                        help='load_from: load only the tensors that fit the model (e.g. '
                        'fine-tuning on a dataset with other classes); without it a checkpoint '
                        'that does not fit is an error')
    add_run_args(parser)
    from lszoo.cli.tool import add_data_root_arg
    add_data_root_arg(parser)
    return parse_run_args(parser, argv)


def build_cfg(args):
    from lszoo.config.checks import preflight
    from lszoo.cli.tool import default_work_dir

    from lszoo.config import load_config

    cfg = load_config(args.config, args.cfg_options)
    if args.bands:
        from lszoo.config.bands import set_bands
        set_bands(cfg, args.bands)
    cfg.launcher = args.launcher
    default_work_dir(cfg, args.config, args.work_dir)
    if args.amp:
        import torch

        from lszoo.engine.amp import amp_optim_wrapper
        wrapper_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper_type not in ('OptimWrapper', 'AmpOptimWrapper', 'CPUAutocastOptimWrapper'):
            from lszoo.errors import ConfigError
            raise ConfigError(f'--amp: optim_wrapper.type is {wrapper_type}; --amp can only '
                              'switch an OptimWrapper to mixed precision')
        cfg.optim_wrapper = amp_optim_wrapper(cfg.optim_wrapper, torch.cuda.is_available())
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            from lszoo.errors import CheckpointError
            raise CheckpointError(f'--resume: checkpoint file {args.resume} does not exist')
        cfg.resume = True
        cfg.load_from = args.resume
    from lszoo.config.data_root import apply_data_options
    loaders = ['train_dataloader', 'val_dataloader']
    if cfg.get('test_after_train', False) and not args.no_test:
        loaders.append('test_dataloader')
    apply_data_options(cfg, args, loaders, args.config)
    preflight(cfg, args.config, stage='train')
    from lszoo.datasets.check import check_listed_files
    splits = ['train', 'val'] + (['test'] if cfg.get('test_after_train') and not args.no_test
                                 else [])
    check_listed_files(cfg, splits)  # every file those splits list exists and is not empty
    return cfg


def train(args):
    from lszoo.cli.distributed import setup_cpu_distributed
    from lszoo.cli.tool import enable_trust, format_metrics
    from lszoo.engine import build_runner

    if args.trust_checkpoint:
        enable_trust()
    cfg = build_cfg(args)
    setup_cpu_distributed(cfg, args.launcher)
    runner = build_runner(cfg)
    from lszoo.config.start_checks import check_start_checkpoint
    check_start_checkpoint(runner, partial=args.partial_load or cfg.get('load_from_partial',
                                                                         False))
    runner.train()
    if cfg.get('test_after_train', False) and not args.no_test:
        metrics = runner.test()
        if runner.rank == 0:
            print(format_metrics(metrics, title='test'), flush=True)
    return 0


def main(argv=None) -> int:
    from lszoo.cli.tool import run_tool
    return run_tool(train, parse_args(argv))


LSZOO_TOOL = True  # lszoo registers its modules after parsing: --help stays fast

if __name__ == '__main__':
    sys.exit(main())
