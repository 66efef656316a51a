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
import copy
import os.path as osp
import sys

from benchmarks.rescore import groups, mean, run_files, run_study, study_parser

COLUMNS = ('fixed', 'train', 'oracle')


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
    for (data, name), runs in groups(rows).items():
        fixed, train, oracle = (mean(runs, c) for c in COLUMNS)
        lines.append(f"| {data} | {name} | {len(runs)} | {fixed:.2f} | {train:.2f} | "
                     f"{train - fixed:+.2f} | {oracle:.2f} |")
    return '\n'.join(lines) + '\n'


def run(args) -> int:
    return run_study(args, score_run, table=table, describe=lambda r: (
        f"IoU {r['fixed']['IoU']:.2f} fixed, {r['train']['IoU']:.2f} train-calibrated, "
        f"{r['oracle']['IoU']:.2f} test-oracle"))


def parse_args(argv=None):
    return study_parser('lszoo: the threshold share of trained runs').parse_args(argv)


def main(argv=None) -> int:
    from lszoo.cli.tool import run_main
    return run_main(run, parse_args, argv)


if __name__ == '__main__':
    sys.exit(main())
