"""Evaluate and benchmark several trained models into one table
(``tools/analysis_tools/compare.py``).

See ``tools/analysis_tools/compare.py`` for the command line and what the table holds.
"""
import csv
import datetime
import math
import os
import os.path as osp
import re

from lszoo.benchmark.profile import benchmark
from lszoo.config.checks import preflight
from lszoo.config import load_config
from lszoo.utils.fileio import atomic_write_text
from lszoo.errors import CheckpointError, ConfigError
from lszoo.evaluation.bootstrap import format_ci, format_mean_sd, summarize_runs

#: the metric columns, in table order (LandslideMetric keys, percentages)
METRIC_KEYS = ('IoU', 'F1', 'Precision', 'Recall', 'mIoU', 'mF1', 'imgIoU', 'imgF1')
#: the bootstrap interval columns LandslideMetric(bootstrap=...) adds, per metric key
CI_KEYS = tuple(f'{k}_ci_{e}' for k in METRIC_KEYS for e in ('low', 'high'))
#: every CSV column, in order (interval columns empty when the metric gave none)
CSV_FIELDS = ('name', 'run', 'config', 'checkpoint') + METRIC_KEYS + CI_KEYS + (
    'params_total', 'params_trainable', 'gflops', 'latency_ms', 'input_shape', 'device_name',
    'torch_threads')


def portable_path(path: str) -> str:
    """``path`` relative to the current folder when it lies below it (so the tables and the
    configs the runs dump do not carry this machine's absolute paths), else unchanged."""
    rel = osp.relpath(path)
    return path if rel.startswith('..') else rel


def resolve_checkpoint(path: str) -> str:
    """A checkpoint file: ``path`` itself, or the latest one of a work dir."""
    if osp.isfile(path):
        return path
    if not osp.isdir(path):
        raise CheckpointError(f'checkpoint {path} does not exist (neither a file nor a work dir)')
    record = osp.join(path, 'last_checkpoint')
    if osp.isfile(record):
        with open(record) as f:
            last = f.read().strip()
        for candidate in (last, osp.join(path, osp.basename(last))):
            if candidate and osp.isfile(candidate):
                return candidate
    numbered = []
    for name in os.listdir(path):
        m = re.fullmatch(r'(?:iter|epoch)_(\d+)\.pth', name)
        if m:
            numbered.append((int(m.group(1)), name))
    if not numbered:
        raise CheckpointError(f'work dir {path} holds no checkpoint (no last_checkpoint record, '
                              'no iter_N.pth / epoch_N.pth)')
    return osp.join(path, max(numbered)[1])


def split_pairs(pairs, names=None):
    """``[(name, config, checkpoint), ...]`` from the positional arguments. A name given to
    several pairs (by default: one config with several checkpoints) marks runs of one config,
    e.g. seeds; they must share the config."""
    if len(pairs) % 2:
        raise ConfigError(f'expected CONFIG CHECKPOINT pairs, got {len(pairs)} arguments '
                          f'(last one: {pairs[-1]})')
    configs, ckpts = pairs[0::2], pairs[1::2]
    for c in configs:
        if not c.endswith('.py'):
            raise ConfigError(f'{c}: expected a config file (.py) in CONFIG CHECKPOINT pairs')
    if names is None:
        names = [osp.splitext(osp.basename(c))[0] for c in configs]
    if len(names) != len(configs):
        raise ConfigError(f'--names gives {len(names)} names for {len(configs)} models')
    seen = {}
    for name, config in zip(names, configs):
        if seen.setdefault(name, config) != config:
            raise ConfigError(f'row name {name} is given to {seen[name]} and {config}: runs of '
                              'one name must share the config (use --names)')
    return list(zip(names, configs, ckpts))


def evaluate(name: str, config: str, checkpoint: str, work_dir: str, cfg_options=None,
             threshold=None, data_root=None, bootstrap=None) -> dict:
    """Run the config's test split once with the checkpoint; LandslideMetric's dict (with the
    ``<key>_ci_low/high`` intervals when the metric makes them). ``data_root``: the test data's
    folder (``--data-root``); ``bootstrap``: LandslideMetric's ``bootstrap`` (replicates)."""
    from lszoo.config.data_root import apply_data_root
    from lszoo.engine import build_runner
    from lszoo.utils.runner import custom_hooks_without

    cfg = load_config(config, cfg_options)
    if data_root:
        apply_data_root(cfg, data_root, ['test_dataloader'], config)
    cfg.work_dir = work_dir
    cfg.load_from = portable_path(resolve_checkpoint(checkpoint))
    cfg.resume = False
    cfg.log_level = 'WARNING'
    cfg.launcher = 'none'
    evaluator = cfg.get('test_evaluator')
    if not evaluator or evaluator.get('type') != 'LandslideMetric':
        raise ConfigError(f'config {config}: test_evaluator must be LandslideMetric to compare '
                          f'the protocols, got {evaluator}')
    if threshold is not None:
        cfg.test_evaluator['threshold'] = threshold
    if bootstrap:
        cfg.test_evaluator['bootstrap'] = bootstrap
    # overlays are not needed for a table
    cfg.custom_hooks = custom_hooks_without(cfg, 'LandslideOverlayHook')
    preflight(cfg, config, stage='test')
    metrics = build_runner(cfg).test()
    missing = [k for k in METRIC_KEYS if k not in metrics]
    if missing:
        raise ConfigError(f'config {config}: test metrics lack {missing} (got {sorted(metrics)})')
    return {k: float(metrics[k]) for k in METRIC_KEYS + CI_KEYS if k in metrics}


def _fmt(value, digits=2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 'n/a'
    return f'{value:.{digits}f}'


def write_csv(rows, path: str) -> None:
    from lszoo.utils.fileio import atomic_path
    with atomic_path(path, '.csv') as tmp, open(tmp, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: r.get(k) for k in CSV_FIELDS})


def markdown_table(rows, title: str, command: str) -> str:
    """The Markdown report: one row per model, the protocols grouped, then size and speed."""
    head = ['Model', 'IoU', 'F1', 'Precision', 'Recall', 'mIoU', 'mF1', 'imgIoU', 'imgF1',
            'Params (M)', 'GFLOPs', 'Latency (ms)']
    lines = [f'# {title}', '',
             f'Generated {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC by',
             '', '```bash', command, '```', '',
             '| ' + ' | '.join(head) + ' |',
             '|' + '|'.join(['---'] + ['---:'] * (len(head) - 1)) + '|']
    multi = {r['name'] for r in rows if r.get('run', 1) > 1}
    for r in rows:
        label = f"{r['name']} (run {r.get('run', 1)})" if r['name'] in multi else r['name']
        cells = [label] + [metric_cell(r, k) for k in METRIC_KEYS] + [
            _fmt(r['params_total'] / 1e6), _fmt(r['gflops']), _fmt(r['latency_ms'], 1)]
        lines.append('| ' + ' | '.join(cells) + ' |')
    first = rows[0]
    lines += [
        '',
        'Metrics in % on each config\'s test split. Standard protocol (landslide class, one '
        'confusion matrix over all pixels): IoU, F1, Precision, Recall. GeoNeXt protocol (mean of '
        'background and landslide): mIoU, mF1. DiGATe protocol (mean over images of the per-image '
        'landslide score; an image with no landslide and an empty prediction counts 1): imgIoU, '
        'imgF1. See docs/metrics.md.' + (
            ' A value with [low, high] carries its percentile bootstrap interval over the test '
            "images (LandslideMetric's bootstrap, --bootstrap)." if any(
                f'{k}_ci_low' in r for r in rows for k in METRIC_KEYS) else ''),
        '',
        f'Params: all parameters. GFLOPs and latency (median of the timed runs, batch 1, '
        f'torch.no_grad) from tools/analysis_tools/benchmark.py on {first["device_name"]}, '
        f'{first["torch_threads"]} torch threads, input N x C x H x W = '
        f'{first["input_shape"]} (C per model).',
        '',
        '| Model | Config | Checkpoint |', '|---|---|---|']
    lines += [f'| {r["name"]} | `{r["config"]}` | `{r["checkpoint"]}` |' for r in rows]
    if multi:
        lines += [''] + run_summary_table(rows)
    return '\n'.join(lines) + '\n'


def metric_cell(row: dict, key: str) -> str:
    """``value`` or, with a bootstrap interval in ``row``, ``value [low, high]``."""
    if f'{key}_ci_low' in row and f'{key}_ci_high' in row:
        return format_ci(row[key], row[f'{key}_ci_low'], row[f'{key}_ci_high'])
    return _fmt(row[key])


def run_summary_table(rows) -> list:
    """Markdown lines: each name with several runs (seeds of one config) as mean ± sample
    sd over its runs (:func:`lszoo.evaluation.bootstrap.summarize_runs`)."""
    summary = [s for s in summarize_runs(rows, METRIC_KEYS, 'name', 'run') if s['n'] > 1]
    lines = ['Runs of one config (e.g. seeds), mean ± sample standard deviation over the runs:',
             '', '| Model | runs | ' + ' | '.join(METRIC_KEYS) + ' |',
             '|---|---:|' + '---:|' * len(METRIC_KEYS)]
    for s in summary:
        cells = [format_mean_sd(s[f'{k}_mean'], s[f'{k}_sd']) for k in METRIC_KEYS]
        lines.append(f"| {s['name']} | {s['n']} | " + ' | '.join(cells) + ' |')
    return lines


def training_budget(cfg) -> str:
    """The training budget of a config: iterations (or epochs) x batch size."""
    loop = cfg.get('train_cfg') or {}
    batch = (cfg.get('train_dataloader') or {}).get('batch_size')
    if loop.get('max_iters'):
        steps = f"{loop['max_iters']} iters"
    elif loop.get('max_epochs'):
        steps = f"{loop['max_epochs']} epochs"
    else:
        return 'budget n/a'
    return steps + (f' x batch {batch}' if batch else '')


def plot(rows, path: str, title: str, threshold=None) -> None:
    """Landslide IoU against latency, one point per model (named in the legend with its size
    and training budget); the title names the metric protocol and threshold."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    markers = 'osD^vP*Xph<>'
    for i, r in enumerate(rows):
        iou = r['IoU'] if not math.isnan(r['IoU']) else 0.0
        ax.scatter(r['latency_ms'], iou, s=30 + 6 * r['params_total'] / 1e6,
                   marker=markers[i % len(markers)], alpha=0.8,
                   label=f"{r['name']} ({r['params_total'] / 1e6:.1f} M params, "
                         f"{r.get('budget', 'budget n/a')})")
    # a legend, not labels at the points: close points would overprint each other
    ax.legend(fontsize=7, loc='center left', bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.set_xlabel(f'latency (ms, batch 1, {rows[0]["device_name"]})', fontsize=8)
    ax.set_ylabel('landslide IoU (%), standard protocol')
    thr = 'each head\'s own threshold' if threshold is None else f'threshold {threshold:g}'
    fig.suptitle(f'{title}: accuracy vs latency (marker size ~ parameters)\n'
                 'IoU: standard protocol (landslide class, one confusion matrix over all test '
                 f'pixels), {thr}; legend: size and training budget', fontsize=8)
    if max(r['latency_ms'] for r in rows) > 20 * min(r['latency_ms'] for r in rows):
        ax.set_xscale('log')
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    from lszoo.utils.fileio import atomic_savefig
    atomic_savefig(fig, path)


def compare(models, out_dir: str, cfg_options=None, threshold=None, shape=None, runs=10,
            warmup=3, device='cpu', title='Model comparison', command='', data_root=None,
            work_dir=None, bootstrap=None) -> list:
    """Evaluate and benchmark every ``(name, config, checkpoint)``; write md, csv and png to
    ``out_dir``. Each test run logs to ``work_dir/<name>`` (default ``out_dir/runs``;
    ``<name>_run<i>`` for several runs of one name, which are benchmarked once)."""
    os.makedirs(out_dir, exist_ok=True)
    work_dir = work_dir or osp.join(out_dir, 'runs')
    rows, counts, speed = [], {}, {}
    total = {n: sum(m[0] == n for m in models) for n, _, _ in models}
    for name, config, checkpoint in models:
        counts[name] = run = counts.get(name, 0) + 1
        print(f'compare: {name}: testing {config} with {checkpoint}', flush=True)
        run_dir = name if total[name] == 1 else f'{name}_run{run}'
        metrics = evaluate(name, config, checkpoint, osp.join(work_dir, run_dir),
                           cfg_options, threshold, data_root, bootstrap)
        if config not in speed:
            speed[config] = benchmark(load_config(config, cfg_options), config, shape=shape,
                                      batch=1, device=device, warmup=warmup, runs=runs)
        b = speed[config]
        rows.append(dict(
            name=name, run=run, config=config,
            checkpoint=portable_path(resolve_checkpoint(checkpoint)),
            **metrics,
            params_total=b['params_total'], params_trainable=b['params_trainable'],
            gflops=b['gflops'], latency_ms=b['latency_ms_median'],
            input_shape='x'.join(str(v) for v in b['input_shape']),
            device_name=b['device_name'], torch_threads=b['torch_threads'],
            budget=training_budget(load_config(config, cfg_options))))
    write_csv(rows, osp.join(out_dir, 'comparison.csv'))
    md = markdown_table(rows, title, command or 'python tools/analysis_tools/compare.py ...')
    atomic_write_text(osp.join(out_dir, 'comparison.md'), md)
    plot(rows, osp.join(out_dir, 'comparison.png'), title, threshold)
    return rows
