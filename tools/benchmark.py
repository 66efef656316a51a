#!/usr/bin/env python
"""Size and speed of a config's model: parameters, FLOPs, latency, throughput, peak memory.

    python tools/benchmark.py CONFIG [--shape H W] [--batch N] [--device cpu|cuda]
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
"""
import argparse
import json
import os
import os.path as osp
import sys

from lszoo.cli.benchmark import benchmark, format_table  # noqa: F401  (benchmark: tests use it)


def parse_args(argv=None):
    from mmengine.config import DictAction

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
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config keys, e.g. model.backbone.base_channels=32')
    return p.parse_args(argv)


def run(args) -> int:
    import torch

    from lszoo.cli.tool import load_config
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_config(args.config, args.cfg_options)
    result = benchmark(cfg, args.config, args.shape, args.batch, args.device, args.warmup,
                       args.runs)
    print(format_table(result))
    if args.json:
        os.makedirs(osp.dirname(osp.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)
    return 0


def main(argv=None) -> int:
    from lszoo.cli.tool import run_tool
    return run_tool(run, parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
