#!/usr/bin/env python
"""Evaluate a checkpoint on a config's test split.

Same command line as mmsegmentation's ``tools/test.py``::

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR] [--show-dir DIR]
                         [--data-root PATH] [--cfg-options KEY=VALUE ...]
                         [--launcher none|pytorch|slurm|mpi]

``--tta flip|d4`` averages the probabilities over 4 flips or 8 flips/rotations
(``LandslideTTAModel``, see docs/deployment.md). ``--show-dir DIR`` writes an
``image | truth | prediction | errors`` PNG for every test image
(lszoo's ``LandslideOverlayHook``, which handles N-band float images); ``--out DIR`` saves every
prediction as a single-band 0/1 PNG plus ``metrics.json``. ``--trust-checkpoint`` loads the
checkpoint as a full pickle (only for files you trust). Bad input ends with one message on
stderr and exit code 2.
"""
import argparse
import json
import os
import os.path as osp
import sys


def parse_args(argv=None):
    from lszoo.cli.tool import add_run_args, parse_run_args

    parser = argparse.ArgumentParser(description='Test a landslide segmentor (lszoo)')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='folder for the predicted masks (0/1 PNG) and '
                        'metrics.json')
    parser.add_argument('--show-dir', help='folder for image | truth | prediction PNG panels')
    parser.add_argument('--bands', nargs='+', metavar='NAME',
                        help='use these bands in every dataloader and the model (as the model '
                        'was trained with tools/train.py --bands)')
    parser.add_argument('--tta', choices=['none', 'flip', 'd4'], default='none',
                        help='test-time augmentation: mean probability over the views')
    add_run_args(parser, what='the checkpoint')
    from lszoo.cli.data_root import add_data_root_arg
    add_data_root_arg(parser)
    return parse_run_args(parser, argv)


def build_cfg(args):
    from lszoo.cli.preflight import preflight
    from lszoo.cli.tool import default_work_dir, load_config
    from lszoo.errors import CheckpointError

    cfg = load_config(args.config, args.cfg_options)
    if args.bands:
        from lszoo.cli.bands import set_bands
        set_bands(cfg, args.bands)
    cfg.launcher = args.launcher
    default_work_dir(cfg, args.config, args.work_dir)
    if not osp.isfile(args.checkpoint):
        raise CheckpointError(f'checkpoint file {args.checkpoint} does not exist')
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.show_dir or args.out:
        hooks = [h for h in (cfg.get('custom_hooks') or [])
                 if h.get('type') != 'LandslideOverlayHook']
        hooks.append(dict(type='LandslideOverlayHook',
                          out_dir=osp.abspath(args.show_dir or osp.join(cfg.work_dir, 'overlays')),
                          max_images=None if args.show_dir else 0,
                          pred_dir=osp.abspath(args.out) if args.out else None))
        cfg.custom_hooks = hooks
    from lszoo.cli.data_root import apply_data_options
    apply_data_options(cfg, args, ['test_dataloader'], args.config)
    preflight(cfg, args.config, stage='test')
    if getattr(args, 'tta', 'none') != 'none':
        from lszoo.engine.tta import tta_config
        cfg = tta_config(cfg, args.tta)
    return cfg


def test(args):
    import torch
    from mmengine.runner import Runner
    from mmseg.registry import RUNNERS

    from lszoo.cli.distributed import setup_cpu_distributed
    from lszoo.cli.preflight import check_checkpoint_fits
    from lszoo.cli.tool import enable_trust, format_metrics

    if args.trust_checkpoint:
        enable_trust()
    cfg = build_cfg(args)
    setup_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    model = runner.model
    while isinstance(getattr(model, 'module', None), torch.nn.Module):  # DDP / TTA wrappers
        model = model.module
    check_checkpoint_fits(model, args.checkpoint, args.config)
    metrics = runner.test()
    if runner.rank == 0:
        print(format_metrics(metrics, title='test'), flush=True)
        if args.out:
            os.makedirs(args.out, exist_ok=True)
            with open(osp.join(args.out, 'metrics.json'), 'w') as f:
                json.dump({k: float(v) if isinstance(v, (int, float)) else str(v)
                           for k, v in metrics.items()}, f, indent=2)
    return 0


def main(argv=None) -> int:
    from lszoo.cli.tool import run_tool
    return run_tool(test, parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
