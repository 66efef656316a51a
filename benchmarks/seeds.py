"""Several seeds of one benchmark: mean ± sample standard deviation per model, per-seed values.

One seed is an anecdote on 36 images (the seed alone moved the smp yardstick from 10.9 to 24.6
IoU on Bijie): recipes are compared on the mean over seeds, with the spread beside it.
"""
import math
from collections import OrderedDict
from typing import Dict, List, Sequence

SUMMARY_KEYS = ('IoU', 'F1', 'Precision', 'Recall')


def mean_sd(values: Sequence[float]):
    """(mean, sample standard deviation; 0 for one value), ignoring NaNs."""
    vals = [float(v) for v in values if v == v]
    if not vals:
        return float('nan'), float('nan')
    mean = sum(vals) / len(vals)
    if len(vals) < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1))


def summarize_seeds(rows: List[dict], keys: Sequence[str] = SUMMARY_KEYS) -> List[dict]:
    """Rows carrying ``name`` and ``seed`` -> one row per model (first-seen order): ``seeds``,
    ``<key>_mean``, ``<key>_sd`` and ``<key>_values`` (per seed, in seed order)."""
    by_name: Dict[str, List[dict]] = OrderedDict()
    for r in rows:
        by_name.setdefault(r['name'], []).append(r)
    out = []
    for name, group in by_name.items():
        group = sorted(group, key=lambda r: r['seed'])
        row = dict(name=name, seeds=[r['seed'] for r in group])
        for k in keys:
            values = [r[k] for r in group]
            row[f'{k}_mean'], row[f'{k}_sd'] = mean_sd(values)
            row[f'{k}_values'] = values
        out.append(row)
    return out


def seed_table(summary: List[dict], keys: Sequence[str] = SUMMARY_KEYS) -> str:
    """Markdown: mean ± sd of each key, then the per-seed IoU values."""
    lines = ['| Model | seeds | ' + ' | '.join(f'{k} mean ± sd' for k in keys)
             + ' | IoU per seed |', '|---|---|' + '---:|' * (len(keys) + 1)]
    for r in summary:
        cells = [f"{r[f'{k}_mean']:.2f} ± {r[f'{k}_sd']:.2f}" for k in keys]
        per_seed = ', '.join(f'{v:.2f}' for v in r['IoU_values'])
        lines.append(f"| {r['name']} | {', '.join(map(str, r['seeds']))} | "
                     + ' | '.join(cells) + f' | {per_seed} |')
    return '\n'.join(lines) + '\n'
