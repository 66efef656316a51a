"""Several seeds of one benchmark: mean ± sample standard deviation per model, per-seed values.

One seed is an anecdote on 36 images (the seed alone moved the smp yardstick from 10.9 to 24.6
IoU on Bijie): recipes are compared on the mean over seeds, with the spread beside it. The
arithmetic is lszoo's (:func:`lszoo.evaluation.bootstrap.summarize_runs`), shared with
``tools/analysis_tools/compare.py``.
"""
from typing import List, Sequence

from lszoo.evaluation.bootstrap import format_mean_sd, summarize_runs

SUMMARY_KEYS = ('IoU', 'F1', 'Precision', 'Recall')


def summarize_seeds(rows: List[dict], keys: Sequence[str] = SUMMARY_KEYS) -> List[dict]:
    """Rows carrying ``name`` and ``seed`` -> one row per model (first-seen order): ``seeds``,
    ``<key>_mean``, ``<key>_sd`` (``nan`` for one seed) and ``<key>_values`` (per seed, in seed
    order)."""
    out = summarize_runs(rows, keys, group='name', order='seed')
    for r in out:
        r['seeds'] = r.pop('runs')
    return out


def seed_table(summary: List[dict], keys: Sequence[str] = SUMMARY_KEYS) -> str:
    """Markdown: mean ± sd of each key, then the per-seed IoU values."""
    lines = ['| Model | seeds | ' + ' | '.join(f'{k} mean ± sd' for k in keys)
             + ' | IoU per seed |', '|---|---|' + '---:|' * (len(keys) + 1)]
    for r in summary:
        cells = [format_mean_sd(r[f'{k}_mean'], r[f'{k}_sd']) for k in keys]
        per_seed = ', '.join(f'{v:.2f}' for v in r['IoU_values'])
        lines.append(f"| {r['name']} | {', '.join(map(str, r['seeds']))} | "
                     + ' | '.join(cells) + f' | {per_seed} |')
    return '\n'.join(lines) + '\n'


def merge_row_files(paths: Sequence[str]) -> List[dict]:
    """The rows of several ``rows.json`` files of ``benchmarks.real`` (one per seed, run apart),
    checked: every model once per seed, every file of one budget."""
    import json

    from lszoo.errors import DataError
    rows, seen = [], set()
    for path in paths:
        with open(path) as f:
            for row in json.load(f):
                key = (row['name'], row['seed'])
                if key in seen:
                    raise DataError(f'{path}: {row["name"]} seed {row["seed"]} is already in '
                                    f'an earlier file')
                seen.add(key)
                rows.append(row)
    return rows


def main(argv=None) -> int:
    """``python -m benchmarks.seeds ROWS.json ... [--out TABLE.md]``: the mean ± sd table of
    per-seed runs made apart (one ``benchmarks.real --seeds S`` process each)."""
    import argparse
    p = argparse.ArgumentParser(description='mean ± sd over seeds from benchmarks.real rows')
    p.add_argument('rows', nargs='+', help='rows.json files, one or more seeds each')
    p.add_argument('--out', help='write the markdown table here too')
    a = p.parse_args(argv)
    table = seed_table(summarize_seeds(merge_row_files(a.rows)))
    print(table, end='')
    if a.out:
        from lszoo.utils.fileio import atomic_write_text
        atomic_write_text(a.out, table)
    return 0


if __name__ == '__main__':
    import sys
    sys.exit(main())
