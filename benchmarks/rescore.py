"""What the studies that re-score trained benchmark runs share (``benchmarks.threshold``,
``benchmarks.precise_bn``): finding the run dirs, the loop that keeps rows.json current, the
grouping of rows by set and model."""
import glob
import json
import os.path as osp

from lszoo.errors import DataError


def run_files(run_dir: str):
    """``(name, config, checkpoint)`` of a benchmark run dir."""
    from mmengine.runner import find_latest_checkpoint
    name = osp.basename(osp.normpath(run_dir))
    config = osp.join(run_dir, f'{name}.py')
    ckpt = find_latest_checkpoint(run_dir)
    if not osp.isfile(config) or not ckpt or not osp.isfile(ckpt):
        raise DataError(f'{run_dir}: not a benchmark run dir (need {name}.py and a saved '
                        'checkpoint named in last_checkpoint)')
    return name, config, ckpt


def find_run_dirs(patterns, out) -> list:
    """The run dirs matching ``patterns``, each checked before any is scored."""
    dirs = [d for pattern in patterns for d in sorted(glob.glob(pattern))]
    if not dirs or not out:
        raise DataError('give run dirs (they matched nothing)' if patterns and not dirs
                        else 'give RUN_DIR ... and --out, or --results')
    for d in dirs:
        run_files(d)
    return dirs


def score_runs(dirs, out: str, score, describe) -> list:
    """``score(run_dir)`` for each dir, rows.json at ``out`` rewritten after each (partial
    results survive a kill) and ``describe(row)`` printed."""
    from lszoo.utils.fileio import atomic_write_json
    rows = []
    for d in dirs:
        rows.append(score(d))
        atomic_write_json(out, rows)
        print(f'{d}: {describe(rows[-1])}', flush=True)
    return rows


def load_rows(paths) -> list:
    return [r for path in paths for r in json.load(open(path))]


def mean(runs, column: str, key: str = 'IoU') -> float:
    """The mean of ``row[column][key]`` over ``runs``."""
    return sum(r[column][key] for r in runs) / len(runs)


def groups(rows) -> dict:
    """``(set folder name, model name) -> rows``, in first-seen order."""
    found = {}
    for r in rows:
        found.setdefault((osp.basename(r['data']), r['name']), []).append(r)
    return found


def run_study(args, score, describe, table) -> int:
    """A re-scoring study's ``run``: ``--results`` tabulates earlier rows; otherwise every run
    dir of ``args.run_dirs`` is scored (``score(run_dir) -> row``) into ``args.out``."""
    import torch

    import lszoo  # noqa: F401  (registers lszoo modules)
    if args.results:
        print(table(load_rows(args.results)), end='')
        return 0
    dirs = find_run_dirs(args.run_dirs, args.out)
    torch.set_num_threads(args.threads)
    print(table(score_runs(dirs, args.out, score, describe)), end='')
    return 0


def study_parser(description: str):
    """The arguments every re-scoring study takes (a study adds its own)."""
    import argparse
    p = argparse.ArgumentParser(description=description)
    p.add_argument('run_dirs', nargs='*', metavar='RUN_DIR', help='benchmark model work dirs '
                   '(glob patterns allowed)')
    p.add_argument('--out', help='rows.json to write (kept current after each run)')
    p.add_argument('--results', nargs='+', help='tabulate earlier rows.json files, no scoring')
    p.add_argument('--threads', type=int, default=1, help='torch threads')
    return p
