"""How much of a trained run's test score is the decision threshold (issue 25, item 3).

    python -m benchmarks.threshold RUN_DIR [RUN_DIR ...] --out rows.json [--threads 1]
    python -m benchmarks.threshold --results rows.json [rows.json ...]

(from the repository root). A run dir is one model's work dir of ``benchmarks.real`` (or
``benchmarks.ablation``): the dumped config ``<name>.py`` and its checkpoint. No training: each
run is scored on its test images three ways, all with landslide ``prob > t`` on the model's own
probability:

- **fixed**: the config's threshold (0.5 unless the head says otherwise), as in the benchmark;
- **train-calibrated**: ``t`` maximising landslide F1 on the run's *training* images (full size,
  no augmentation; :func:`lszoo.evaluation.calibrate_threshold`). The real sets have no
  validation split, so this is the calibration a user of them could do; it is in-sample, fitted
  on images the model has learnt;
- **test-oracle**: ``t`` maximising F1 on the test images themselves: the most any threshold can
  give, an upper bound and not a usable result.

Each calibration writes its sidecar beside the checkpoint (the last one, the oracle's, stays):
the run dirs are scratch, outside the repository. Results: ``docs/benchmarks/recipes.md``.
"""
import argparse
import copy
import glob
import json
import os.path as osp
import sys

from lszoo.errors import DataError

COLUMNS = ('fixed', 'train', 'oracle')


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


def split_cfg(cfg, split: str):
    """``cfg`` with a validation pass over the test pipeline on ``split``'s images."""
    cfg = copy.deepcopy(cfg)
    cfg.val_dataloader = copy.deepcopy(cfg.test_dataloader)
    cfg.val_dataloader.dataset.split = split
    cfg.val_cfg = dict(type='ValLoop')
    cfg.val_evaluator = dict(type='LandslideMetric')
    return cfg


def score_run(run_dir: str) -> dict:
    """One row: IoU / F1 / P / R and the threshold for each of :data:`COLUMNS`."""
    from lszoo.benchmark.compare import evaluate
    from lszoo.config import load_config
    from lszoo.evaluation import calibrate_threshold

    name, config, ckpt = run_files(run_dir)
    cfg = load_config(config)
    cfg.log_level = 'WARNING'
    fixed = cfg.model.decode_head.get('threshold', 0.5)
    row = dict(run=osp.abspath(run_dir), name=name, seed=cfg.randomness.get('seed'),
               data=cfg.test_dataloader.dataset.data_root)
    work = osp.join(run_dir, 'threshold_study')
    t_train = calibrate_threshold(split_cfg(cfg, 'train'), ckpt)['threshold_uncalibrated']
    for column, t in (('fixed', fixed), ('train', t_train)):
        metrics = evaluate(name, config, ckpt, osp.join(work, column), threshold=t)
        row[column] = dict(threshold=t, **{k: metrics[k] for k in ('IoU', 'F1', 'Precision',
                                                                   'Recall')})
    oracle = calibrate_threshold(split_cfg(cfg, 'test'), ckpt)
    row['oracle'] = dict(threshold=oracle['threshold_uncalibrated'], IoU=100 * oracle['IoU'],
                         F1=100 * oracle['F1'])
    return row


def table(rows) -> str:
    """Markdown: one line per run, then the mean per model and data set."""
    lines = ['| data | model | seed | t fixed | IoU fixed | t train-cal. | IoU train-cal. | '
             'P / R train-cal. | t test-oracle | IoU test-oracle |',
             '|---|---|---|---:|---:|---:|---:|---|---:|---:|']
    for r in rows:
        f, t, o = (r[c] for c in COLUMNS)
        lines.append(f"| {osp.basename(r['data'])} | {r['name']} | {r['seed']} | "
                     f"{f['threshold']:.3g} | {f['IoU']:.2f} | {t['threshold']:.3g} | "
                     f"{t['IoU']:.2f} | {t['Precision']:.1f} / {t['Recall']:.1f} | "
                     f"{o['threshold']:.3g} | {o['IoU']:.2f} |")
    lines += ['', '| data | model | runs | IoU fixed mean | IoU train-cal. mean | change | '
              'IoU test-oracle mean |', '|---|---|---:|---:|---:|---:|---:|']
    groups = {}
    for r in rows:
        groups.setdefault((osp.basename(r['data']), r['name']), []).append(r)
    for (data, name), runs in groups.items():
        mean = {c: sum(r[c]['IoU'] for r in runs) / len(runs) for c in COLUMNS}
        lines.append(f"| {data} | {name} | {len(runs)} | {mean['fixed']:.2f} | "
                     f"{mean['train']:.2f} | {mean['train'] - mean['fixed']:+.2f} | "
                     f"{mean['oracle']:.2f} |")
    return '\n'.join(lines) + '\n'


def run(args) -> int:
    import torch

    import lszoo  # noqa: F401  (registers lszoo modules)

    if args.results:
        rows = [r for path in args.results for r in json.load(open(path))]
        print(table(rows), end='')
        return 0
    dirs = [d for pattern in args.run_dirs for d in sorted(glob.glob(pattern))]
    if not dirs or not args.out:
        raise DataError('give run dirs (they matched nothing)' if args.run_dirs and not dirs
                        else 'give RUN_DIR ... and --out, or --results')
    for d in dirs:  # every run dir checked before the first pass
        run_files(d)
    torch.set_num_threads(args.threads)
    from lszoo.utils.fileio import atomic_write_json
    rows = []
    for d in dirs:
        rows.append(score_run(d))
        atomic_write_json(args.out, rows)  # partial results survive a kill
        print(f"threshold study: {d}: IoU {rows[-1]['fixed']['IoU']:.2f} fixed, "
              f"{rows[-1]['train']['IoU']:.2f} train-calibrated, "
              f"{rows[-1]['oracle']['IoU']:.2f} test-oracle", flush=True)
    print(table(rows), end='')
    return 0


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='lszoo: the threshold share of trained runs')
    p.add_argument('run_dirs', nargs='*', metavar='RUN_DIR', help='benchmark model work dirs '
                   '(glob patterns allowed)')
    p.add_argument('--out', help='rows.json to write (kept current after each run)')
    p.add_argument('--results', nargs='+', help='tabulate earlier rows.json files, no scoring')
    p.add_argument('--threads', type=int, default=1, help='torch threads')
    return p.parse_args(argv)


def main(argv=None) -> int:
    from lszoo.cli.tool import run_main
    return run_main(run, parse_args, argv)


if __name__ == '__main__':
    sys.exit(main())
