"""Are batch-4 BatchNorm statistics what holds a trained run back? (issue 25, item 3)

    python -m benchmarks.precise_bn RUN_DIR [RUN_DIR ...] --out rows.json [--batches 100]
    python -m benchmarks.precise_bn --results rows.json [rows.json ...]

(from the repository root). A run dir is one model's work dir of ``benchmarks.real`` or
``benchmarks.ablation`` (as for ``benchmarks.threshold``). Trained with batch 4, a model keeps
each BatchNorm layer's running statistics as an exponential average (momentum 0.1) of the last
few dozen 4-image batches, taken while the weights still moved. This study keeps the trained
weights and changes only those statistics: it replaces them by the plain average over
``--batches`` batches of the run's own training pipeline (its crops and flips) at the final
weights ("precise BN": what ``PreciseBNHook`` does when training ends, the same function). No
training. Both versions are scored on the test images at the config's fixed threshold and at the
test-oracle threshold (the best any threshold gives, so a shift of the probability scale is told
apart from a change in ranking).
The recomputed checkpoint is written to ``RUN_DIR/precise_bn/``. Results:
``docs/benchmarks/recipes.md``.
"""
import os
import os.path as osp
import sys

from benchmarks.rescore import groups, mean, run_files, run_study, study_parser
from benchmarks.threshold import split_cfg
from lszoo.errors import DataError

KEYS = ('IoU', 'F1', 'Precision', 'Recall')


def training_loader(cfg, seed: int):
    """The config's training data loader; seeded (the sampler, the crops and flips), so a study
    reruns to the same statistics."""
    import copy

    from mmengine.runner import Runner, set_random_seed
    set_random_seed(seed)
    return Runner.build_dataloader(copy.deepcopy(cfg.train_dataloader), seed=seed)


def recompute_bn(config: str, ckpt: str, out_path: str, batches: int) -> int:
    """Write ``ckpt`` with its BatchNorm statistics averaged over ``batches`` training batches
    (:func:`lszoo.engine.hooks.recompute_bn_statistics`, what ``PreciseBNHook`` does when
    training ends) to ``out_path``; the number of layers recomputed (0: nothing written)."""
    import torch

    from lszoo.apis import init_model
    from lszoo.engine.hooks import recompute_bn_statistics
    from lszoo.utils.checkpoint import load_checkpoint_file
    from lszoo.utils.fileio import atomic_path
    model = init_model(config, ckpt)
    seed = model.cfg.get('randomness', {}).get('seed') or 0
    layers, _ = recompute_bn_statistics(model, training_loader(model.cfg, seed), batches)
    if not layers:
        return 0
    meta = load_checkpoint_file(ckpt).get('meta', {})
    os.makedirs(osp.dirname(out_path), exist_ok=True)
    with atomic_path(out_path) as tmp:
        torch.save(dict(meta=meta, state_dict=model.state_dict()), tmp)
    return layers


def score(name: str, config: str, cfg, ckpt: str, work: str, threshold: float) -> dict:
    """Fixed-threshold metrics and the test-oracle IoU of one checkpoint."""
    from lszoo.benchmark.compare import evaluate
    from lszoo.evaluation import calibrate_threshold
    metrics = evaluate(name, config, ckpt, work, threshold=threshold)
    oracle = calibrate_threshold(split_cfg(cfg, 'test'), ckpt)
    return dict({k: metrics[k] for k in KEYS}, oracle_threshold=oracle['threshold_uncalibrated'],
                oracle_IoU=100 * oracle['IoU'])


def study_run(run_dir: str, batches: int) -> dict:
    """One row: the run scored with its own BatchNorm statistics and with recomputed ones."""
    from lszoo.config import load_config
    name, config, ckpt = run_files(run_dir)
    cfg = load_config(config)
    cfg.log_level = 'WARNING'
    fixed = cfg.model.decode_head.get('threshold', 0.5)
    work = osp.join(run_dir, 'precise_bn')
    new_ckpt = osp.join(work, osp.basename(ckpt))
    layers = recompute_bn(config, ckpt, new_ckpt, batches)
    if not layers:
        raise DataError(f'{run_dir}: the model has no BatchNorm statistics to recompute')
    return dict(run=osp.abspath(run_dir), name=name, seed=cfg.randomness.get('seed'),
                data=cfg.test_dataloader.dataset.data_root, threshold=fixed, bn_layers=layers,
                batches=batches, batch_size=cfg.train_dataloader.batch_size,
                running=score(name, config, cfg, ckpt, osp.join(work, 'running'), fixed),
                precise=score(name, config, cfg, new_ckpt, osp.join(work, 'precise'), fixed))


def table(rows) -> str:
    """Markdown: one line per run, then the mean per model and data set."""
    lines = ['| data | model | seed | IoU running BN | IoU precise BN | P / R running | '
             'P / R precise | oracle IoU running | oracle IoU precise |',
             '|---|---|---|---:|---:|---|---|---:|---:|']
    for r in rows:
        a, b = r['running'], r['precise']
        lines.append(f"| {osp.basename(r['data'])} | {r['name']} | {r['seed']} | {a['IoU']:.2f} | "
                     f"{b['IoU']:.2f} | {a['Precision']:.1f} / {a['Recall']:.1f} | "
                     f"{b['Precision']:.1f} / {b['Recall']:.1f} | {a['oracle_IoU']:.2f} | "
                     f"{b['oracle_IoU']:.2f} |")
    lines += ['', '| data | model | runs | IoU running BN mean | IoU precise BN mean | change | '
              'oracle change |', '|---|---|---:|---:|---:|---:|---:|']
    for (data, name), runs in groups(rows).items():
        running, precise = mean(runs, 'running'), mean(runs, 'precise')
        oracle_change = mean(runs, 'precise', 'oracle_IoU') - mean(runs, 'running', 'oracle_IoU')
        lines.append(f"| {data} | {name} | {len(runs)} | {running:.2f} | {precise:.2f} | "
                     f"{precise - running:+.2f} | {oracle_change:+.2f} |")
    return '\n'.join(lines) + '\n'


def run(args) -> int:
    from lszoo.errors import ConfigError
    if not args.results and args.batches < 1:
        raise ConfigError(f'--batches must be >= 1, got {args.batches}')
    return run_study(args, lambda d: study_run(d, args.batches), table=table, describe=lambda r: (
        f"precise BN: IoU {r['running']['IoU']:.2f} with its running statistics, "
        f"{r['precise']['IoU']:.2f} recomputed"))


def parse_args(argv=None):
    p = study_parser('lszoo: trained runs with recomputed BatchNorm statistics')
    p.add_argument('--batches', type=int, default=100,
                   help='training batches averaged into the statistics')
    return p.parse_args(argv)


def main(argv=None) -> int:
    from lszoo.cli.tool import run_main
    return run_main(run, parse_args, argv)


if __name__ == '__main__':
    sys.exit(main())
