"""Checkpoint save/load cost: lszoo's atomic put against mmengine's stock put, and lszoo's safe
(``weights_only``) load against a full-pickle load.

    python tools/analysis_tools/benchmark_checkpoint.py [--params 32000000] [--reps 3] \
        [--dir /tmp/ck_bench]

Prints the checkpoint size and the median time of each operation.
"""
import argparse
import io
import os
import statistics
import sys
import tempfile
import time
import warnings

import torch
from mmengine.fileio.backends import LocalBackend

import lszoo  # noqa: F401  (installs the safe loader)
from lszoo.engine.checkpoint import load_checkpoint_file
from lszoo.engine.mmengine_patches import AtomicLocalBackend


def median_seconds(fn, reps):
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--params', type=int, default=32_000_000,
                        help='parameters of the model (default: about GeoNeXt-tiny)')
    parser.add_argument('--reps', type=int, default=3)
    parser.add_argument('--dir', default=None, help='folder for the file (default: a temp dir)')
    return parser.parse_args(argv)


def run(args) -> int:
    warnings.simplefilter('ignore')

    model = torch.nn.Linear(1000, max(1, args.params // 1000))
    opt = torch.optim.Adam(model.parameters())
    model(torch.zeros(1, 1000)).sum().backward()
    opt.step()
    buf = io.BytesIO()
    torch.save({'meta': {'iter': 1}, 'state_dict': model.state_dict(),
                'optimizer': opt.state_dict()}, buf)
    data = buf.getvalue()

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = os.path.join(tmp, 'c.pth')
        stock, atomic = LocalBackend(), AtomicLocalBackend()
        print(f'checkpoint: {len(data) / 2**20:.0f} MiB ({args.params} parameters + Adam state), '
              f'median of {args.reps}')
        timed = [
            ('save, mmengine stock put', lambda: stock.put(data, path)),
            ('save, lszoo atomic put', lambda: atomic.put(data, path)),
            ('load, lszoo safe', lambda: load_checkpoint_file(path)),
            ('load, full pickle',
             lambda: torch.load(path, map_location='cpu', weights_only=False)),
        ]
        for label, fn in timed:
            print(f'{label:<25}: {median_seconds(fn, args.reps):.3f} s')
    return 0


def main(argv=None) -> int:
    from lszoo.cli.tool import run_tool
    return run_tool(run, parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
