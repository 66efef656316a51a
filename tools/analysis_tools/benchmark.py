#!/usr/bin/env python
"""Size and speed of a config's model: parameters, FLOPs, latency, throughput, peak memory.

    python tools/analysis_tools/benchmark.py CONFIG [--shape H W] [--batch N] [--device cpu|cuda]
                              [--warmup K] [--runs R] [--threads T] [--json FILE]

The input has the config's real channel count (``model.backbone.in_channels``, else the
dataset's ``bands``; mmseg's ``get_flops`` assumes 3), so multi-band and multi-stream models are
measured on what they actually read. Inference only (``model(x, mode='tensor')`` under
``torch.no_grad()``, eval mode):

- parameters: total and trainable (``requires_grad``), in units;
- FLOPs: counted with ``torch.utils.flop_counter.FlopCounterMode`` (convolutions, matrix
  products, attention; element-wise ops are not counted, as in fvcore); reported as GFLOPs and as
  GMACs (= GFLOPs / 2, the "multiply-adds" papers quote), per forward pass of the whole batch;
- latency: median wall time of ``--runs`` forward passes after ``--warmup`` ones (CUDA
  synchronised), and throughput = batch / median latency;
- peak memory: on CUDA ``torch.cuda.max_memory_allocated`` during the timed runs; on the CPU the
  increase of the process's peak resident set size (``ru_maxrss``) over the state before the
  first forward pass (a lower bound when an earlier step already reached a higher peak).

Side by side (speed claims as ratios measured in one run, not absolute times from a busy
machine): give a second config with ``--vs`` and/or B's own settings, and the tool builds both
models in one process and alternates them (A B, B A, A B, ...), printing for the eval forward
and a training step (``model.train_step`` with the config's optimizer on a synthetic batch) the
median time of each and the median, quartiles and range of the per-repetition ratios B/A::

    python tools/analysis_tools/benchmark.py CONFIG_A [--vs CONFIG_B]
        [--cfg-options-b KEY=VALUE ...] [--amp-b] [--channels-last-b] [--reps 10] [--batch 1]
        [--train-batch 4] [--no-train]

``--cfg-options`` applies to both sides, ``--cfg-options-b`` to B only (e.g. ``compile=True``,
mmengine's key, compiles B's forward and ``train_step``); ``--amp-b`` runs B in mixed precision
(bf16 autocast on the CPU, fp16 on CUDA); ``--channels-last-b`` converts B's model and input.
"""
import argparse
import sys

from lszoo.benchmark import (Contender, benchmark, format_side_by_side, format_table,
                             side_by_side)


def parse_args(argv=None):
    from lszoo.cli.tool import CfgOptionsAction

    p = argparse.ArgumentParser(description='Benchmark a config\'s model (lszoo)')
    p.add_argument('config')
    p.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                   help='input height and width (default: the config\'s crop_size, else 256 256)')
    p.add_argument('--batch', type=int, default=1, help='batch size (default 1)')
    p.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    p.add_argument('--warmup', type=int, default=3, help='untimed forward passes (default 3)')
    p.add_argument('--runs', type=int, default=10, help='timed forward passes (default 10)')
    p.add_argument('--threads', type=int, default=None,
                   help='torch CPU threads (default: torch\'s choice)')
    p.add_argument('--json', help='also write the results to this JSON file')
    p.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                   help='override config keys, e.g. model.backbone.base_channels=32')
    g = p.add_argument_group('side by side (any of these switches it on)')
    g.add_argument('--vs', metavar='CONFIG_B', help='B\'s config (default: CONFIG again)')
    g.add_argument('--cfg-options-b', nargs='+', action=CfgOptionsAction,
                   help='override config keys for B only, e.g. compile=True')
    g.add_argument('--amp-b', action='store_true',
                   help='B in mixed precision (bf16 autocast on the CPU, fp16 on CUDA)')
    g.add_argument('--channels-last-b', action='store_true', help='B in channels-last memory')
    p.add_argument('--reps', type=int, default=10,
                   help='side by side: interleaved repetitions (default 10)')
    p.add_argument('--train-batch', type=int, help='side by side: training-step batch size '
                   '(default: --batch)')
    p.add_argument('--no-train', action='store_true', help='side by side: eval forward only')
    return p.parse_args(argv)


def is_side_by_side(args) -> bool:
    return bool(args.vs or args.cfg_options_b or args.amp_b or args.channels_last_b)


def run_side_by_side(args) -> dict:
    from lszoo.config import load_config
    from lszoo.errors import ConfigError
    if args.reps < 1 or args.batch < 1 or (args.train_batch or 1) < 1:
        raise ConfigError('--reps, --batch and --train-batch must be >= 1')
    config_b = args.vs or args.config
    cfg_a = load_config(args.config, args.cfg_options)
    cfg_b = load_config(config_b, args.cfg_options)
    if args.cfg_options_b:
        cfg_b.merge_from_dict(args.cfg_options_b)
    common = dict(shape=args.shape, batch=args.batch,
                  train_batch_size=args.train_batch or args.batch, device=args.device)
    a = Contender('A', cfg_a, args.config, **common)
    b = Contender('B', cfg_b, config_b, amp=args.amp_b, channels_last=args.channels_last_b,
                  **common)
    if args.cfg_options_b:
        b.settings['overrides'] = {k: str(v) for k, v in args.cfg_options_b.items()}
    return side_by_side(a, b, reps=args.reps, warmup=args.warmup, train=not args.no_train)


def run(args) -> int:
    import torch

    from lszoo.cli.tool import write_json
    from lszoo.config import load_config
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == 'cuda' and not torch.cuda.is_available():
        from lszoo.errors import ConfigError
        raise ConfigError('--device cuda: CUDA is not available on this machine')
    if is_side_by_side(args):
        from mmseg.utils import register_all_modules
        register_all_modules(init_default_scope=True)
        result = run_side_by_side(args)
        print(format_side_by_side(result))
    else:
        cfg = load_config(args.config, args.cfg_options)
        result = benchmark(cfg, args.config, args.shape, args.batch, args.device, args.warmup,
                           args.runs)
        print(format_table(result))
    if args.json:
        write_json(args.json, result)
    return 0


def main(argv=None) -> int:
    from lszoo.cli.tool import run_tool
    return run_tool(run, parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
