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

The decision threshold: ``--calibrate`` first runs the config's validation split and picks the
probability threshold that maximises landslide F1 there (``lszoo.evaluation.calibrate_threshold``),
stores it beside the checkpoint in ``CHECKPOINT.calibration.json`` (the checkpoint is not
touched) and tests with it. It also fits a temperature ``T`` of the landslide logits there
(temperature scaling: probabilities ``sigmoid(z / T)``, or ``softmax(z / T)`` for two channels),
stored in the same file; the stored threshold is on that calibrated probability. Later runs,
``tools/infer_scene.py`` and ``tools/export_onnx.py`` use a stored threshold and temperature
unless ``--threshold T`` is given (the threshold alone) or the config sets
``use_calibrated_threshold = False`` (the paper configs keep their papers' thresholds and
probabilities). The metric's log names the threshold it used; one line names the temperature.
"""
import argparse
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
    parser.add_argument('--calibrate', action='store_true',
                        help='pick the landslide-F1-maximising threshold on the validation '
                        'split, store it beside the checkpoint and test with it')
    parser.add_argument('--threshold', type=float,
                        help='landslide probability threshold (overrides a calibrated one)')
    parser.add_argument('--bands', nargs='+', metavar='NAME',
                        help='use these bands in every dataloader and the model (as the model '
                        'was trained with tools/train.py --bands)')
    parser.add_argument('--tta', choices=['none', 'flip', 'd4'], default='none',
                        help='test-time augmentation: mean probability over the views')
    add_run_args(parser, what='the checkpoint')
    from lszoo.cli.tool import add_data_root_arg
    add_data_root_arg(parser)
    return parse_run_args(parser, argv)


def build_cfg(args):
    from lszoo.config.checks import preflight
    from lszoo.cli.tool import default_work_dir
    from lszoo.config import load_config
    from lszoo.errors import CheckpointError
    from lszoo.utils.runner import custom_hooks_without

    cfg = load_config(args.config, args.cfg_options)
    if args.bands:
        from lszoo.config.bands import set_bands
        set_bands(cfg, args.bands)
    cfg.launcher = args.launcher
    default_work_dir(cfg, args.config, args.work_dir)
    if not osp.isfile(args.checkpoint):
        raise CheckpointError(f'checkpoint file {args.checkpoint} does not exist')
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.show_dir or args.out:
        hooks = custom_hooks_without(cfg, 'LandslideOverlayHook')
        hooks.append(dict(type='LandslideOverlayHook',
                          out_dir=osp.abspath(args.show_dir or osp.join(cfg.work_dir, 'overlays')),
                          max_images=None if args.show_dir else 0,
                          pred_dir=osp.abspath(args.out) if args.out else None))
        cfg.custom_hooks = hooks
    from lszoo.config.data_root import apply_data_options
    apply_data_options(cfg, args, ['test_dataloader'], args.config)
    preflight(cfg, args.config, stage='test')
    if getattr(args, 'tta', 'none') != 'none':
        from lszoo.utils.tta import tta_config
        cfg = tta_config(cfg, args.tta)
    return cfg


def apply_threshold(cfg, threshold: float) -> None:
    """Test with ``prob > threshold``: the metric, and a one-channel head's ``pred_sem_seg``
    (what ``--out`` / ``--show-dir`` write)."""
    from lszoo.errors import ConfigError

    if not 0 < threshold < 1:
        raise ConfigError(f'--threshold must be a probability in (0, 1), got {threshold}')
    evaluator = cfg.get('test_evaluator')
    if not evaluator or evaluator.get('type') != 'LandslideMetric':
        raise ConfigError(f'a test threshold needs test_evaluator LandslideMetric, got {evaluator}')
    cfg.test_evaluator = dict(evaluator, threshold=threshold)
    model = cfg.model.get('module', cfg.model)  # inside a --tta wrapper
    head = model.get('decode_head')
    if isinstance(head, dict) and head.get('out_channels') == 1:
        head['threshold'] = threshold


def calibrate(cfg, args):
    """``--calibrate``: :func:`lszoo.evaluation.calibrate_threshold`, reported; returns
    ``(threshold, source)``."""
    from lszoo.evaluation import calibrate_threshold
    from lszoo.evaluation.calibration import calibration_path

    if cfg.model.get('type') == 'LandslideTTAModel':  # the validation pipeline has no views
        print('lszoo: --calibrate: the threshold is calibrated without TTA', flush=True)
    info = calibrate_threshold(cfg, args.checkpoint)
    print(f'lszoo: calibrated threshold {info["threshold"]:g} (val F1 {100 * info["F1"]:.2f}) '
          f'and temperature {info["temperature"]:g} stored in '
          f'{calibration_path(args.checkpoint)}', flush=True)
    return info['threshold'], 'calibrated on the validation split just now'


def test(args):
    import torch

    from lszoo.cli.distributed import setup_cpu_distributed
    from lszoo.cli.tool import enable_trust, format_metrics, write_json
    from lszoo.config.checks import check_checkpoint_fits
    from lszoo.engine import build_runner
    from lszoo.errors import ConfigError
    from lszoo.evaluation import resolve_temperature, resolve_threshold
    from lszoo.evaluation.threshold import temperature_message
    from lszoo.models.decode_heads.temperature import set_temperature

    if args.calibrate and args.threshold is not None:
        raise ConfigError('--calibrate picks the threshold, --threshold gives one: use one')
    if args.trust_checkpoint:
        enable_trust()
    cfg = build_cfg(args)
    setup_cpu_distributed(cfg, args.launcher)
    if args.calibrate:
        threshold, source = calibrate(cfg, args)
    else:  # None: the decode head's own (the model is not built yet)
        threshold, source = resolve_threshold(None, cfg, args.checkpoint, args.threshold)
    if threshold is not None:
        apply_threshold(cfg, threshold)
    used = f'prob > {threshold:g}' if threshold is not None else "the decode head's"
    print(f'lszoo: test threshold: {used} ({source})', flush=True)
    runner = build_runner(cfg)
    model = runner.model
    while isinstance(getattr(model, 'module', None), torch.nn.Module):  # DDP / TTA wrappers
        model = model.module
    check_checkpoint_fits(model, args.checkpoint, args.config)
    temperature, t_source = resolve_temperature(None, None if args.calibrate else cfg,
                                                args.checkpoint)
    set_temperature(model, temperature)
    print(temperature_message(temperature, t_source), flush=True)
    metrics = runner.test()
    if runner.rank == 0:
        print(format_metrics(metrics, title='test'), flush=True)
        if args.out:
            write_json(osp.join(args.out, 'metrics.json'),
                       {k: float(v) if isinstance(v, (int, float)) else str(v)
                        for k, v in metrics.items()})
    return 0


def main(argv=None) -> int:
    from lszoo.cli.tool import run_tool
    return run_tool(test, parse_args(argv))


LSZOO_TOOL = True  # lszoo registers its modules after parsing: --help stays fast

if __name__ == '__main__':
    sys.exit(main())
