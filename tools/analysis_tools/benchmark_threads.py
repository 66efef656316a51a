#!/usr/bin/env python
"""Wall time of a short training run under different thread settings, idle and under load.

    python tools/analysis_tools/benchmark_threads.py [CONFIG] [--iters 60] [--reps 2] [--busy 2]
                                      [--settings auto one torch] [--json FILE]

Each run is ``tools/train.py CONFIG --no-test`` in a fresh process (default config:
``configs/demo/unet_synthetic.py``, ``--iters`` iterations, no validation, no checkpoint). The
settings (``--settings``):

- ``auto``: lszoo's defaults (``env_cfg.torch_threads='auto'``, one thread per loader worker),
  no ``OMP_NUM_THREADS`` in the environment;
- ``one``: ``OMP_NUM_THREADS=1 MKL_NUM_THREADS=1``;
- ``torch``: torch's and mmengine's own choices (``torch_threads=None``, ``worker_threads=None``,
  no ``OMP_NUM_THREADS``): what the configs did before.

Loads: ``idle`` (nothing started by the tool) and ``busy`` (``--busy`` pure-Python busy loops
that the tool starts before and stops after, by their process ids). Runs alternate between the
settings within each repetition, so a drifting background load hits them alike; the table gives
median seconds and each setting's ratio to the best one under the same load. On a machine that
other jobs also use, "idle" is not idle: the output says how busy the machine was before each
load (from ``/proc/stat``).
"""
import argparse
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # the checkout
DEMO = osp.join(REPO, 'configs', 'demo', 'unet_synthetic.py')
SETTINGS = {
    'auto': ({}, []),
    'one': ({'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1'}, []),
    'torch': ({}, ['env_cfg.torch_threads=None', 'env_cfg.worker_threads=None']),
}
BUSY_LOOP = 'while True:\n    pass\n'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Training wall time under thread settings and load')
    p.add_argument('config', nargs='?', default=DEMO)
    p.add_argument('--iters', type=int, default=60, help='training iterations per run')
    p.add_argument('--reps', type=int, default=2, help='runs per setting and load')
    p.add_argument('--busy', type=int, default=2, help='busy processes for the loaded case')
    p.add_argument('--loads', nargs='+', choices=['idle', 'busy'], default=['idle', 'busy'])
    p.add_argument('--settings', nargs='+', choices=list(SETTINGS), default=list(SETTINGS))
    p.add_argument('--json', help='also write the results here')
    return p.parse_args(argv)


def run_once(config: str, setting: str, iters: int, work_dir: str) -> float:
    """Seconds of one ``tools/train.py`` run with ``setting``'s environment and options."""
    env_extra, options = SETTINGS[setting]
    env = {k: v for k, v in os.environ.items() if k not in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS')}
    env.update(env_extra)
    cmd = [sys.executable, osp.join(REPO, 'tools', 'train.py'), config, '--no-test',
           '--work-dir', work_dir, '--cfg-options', f'train_cfg.max_iters={iters}',
           f'train_cfg.val_interval={iters + 1}', f'default_hooks.checkpoint.interval={iters + 1}',
           'default_hooks.checkpoint.save_last=False', 'custom_hooks=[]'] + options
    start = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if res.returncode != 0:
        raise RuntimeError(f'{setting}: train.py failed:\n{res.stderr[-2000:]}')
    return elapsed


def start_busy(n: int):
    return [subprocess.Popen([sys.executable, '-c', BUSY_LOOP]) for _ in range(n)]


def stop_busy(procs) -> None:
    for p in procs:
        p.kill()
        p.wait()


def measure(args) -> dict:
    from lszoo.engine.threads import available_cpus, other_load
    results = dict(config=args.config, iters=args.iters, reps=args.reps, busy=args.busy,
                   cpus=available_cpus(), loads={})
    for load in args.loads:
        procs = start_busy(args.busy) if load == 'busy' else []
        try:
            time.sleep(1.0 if procs else 0.0)
            before = other_load(1.0)
            times = {s: [] for s in args.settings}
            with tempfile.TemporaryDirectory() as tmp:
                for rep in range(args.reps):
                    order = args.settings if rep % 2 == 0 else args.settings[::-1]
                    for s in order:
                        times[s].append(run_once(args.config, s, args.iters,
                                                 osp.join(tmp, f'{load}_{s}_{rep}')))
        finally:
            stop_busy(procs)
        medians = {s: statistics.median(t) for s, t in times.items()}
        best = min(medians.values())
        results['loads'][load] = dict(
            busy_cores_before=round(before, 2), seconds=times, median_s=medians,
            ratio_to_best={s: m / best for s, m in medians.items()})
    return results


def format_results(r: dict) -> str:
    lines = [f"{r['config']}: {r['iters']} iterations, {r['reps']} runs per cell, "
             f"{r['cpus']} usable cores"]
    for load, d in r['loads'].items():
        what = f"{r['busy']} busy processes started" if load == 'busy' else 'nothing started'
        lines.append(f"{load} ({what}; {d['busy_cores_before']} cores busy before the runs):")
        for s, m in d['median_s'].items():
            runs = ', '.join(f'{t:.1f}' for t in d['seconds'][s])
            lines.append(f"  {s:<6} median {m:7.1f} s  x{d['ratio_to_best'][s]:.2f} of best  "
                         f"(runs: {runs})")
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.iters < 1 or args.reps < 1 or args.busy < 0:
        print('lszoo: error: --iters and --reps must be >= 1, --busy >= 0', file=sys.stderr)
        return 2
    if not osp.isfile(args.config):
        print(f'lszoo: error: config {args.config} does not exist', file=sys.stderr)
        return 2
    r = measure(args)
    print(format_results(r))
    if args.json:
        from lszoo.cli.tool import write_json
        write_json(args.json, r)
    return 0


if __name__ == '__main__':
    sys.exit(main())
