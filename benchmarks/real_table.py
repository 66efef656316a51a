"""The markdown table of :mod:`benchmarks.real`: command, machine, split, budget, rows."""

COLUMNS = [('IoU', 'IoU'), ('F1', 'F1'), ('Precision', 'P'), ('Recall', 'R'), ('mIoU', 'mIoU'),
           ('mF1', 'mF1'), ('imgIoU', 'imgIoU'), ('imgF1', 'imgF1')]


def markdown(rows, args, train, test, machine: str, val=()) -> str:
    """The result table with the command, split and budget (and validation, if any)."""
    def fmt(v):
        return 'nan' if v != v else f'{v:.2f}'
    options = ''.join(f', `{k}={v}`' for k, v in (args.cfg_options or {}).items())
    held_out = (f'validation {len(val)} (every fourth training image, scored {args.validate} '
                'times; each row scores the checkpoint with the best validation IoU, "IoU last" '
                'the last one) / ' if val else '')
    extra = ' best iter | IoU last |' if val else ''
    lines = [f'### Real {args.dataset} benchmark, recipe `{args.recipe}`{options}', '',
             f'Command: `python -m benchmarks.real {" ".join(args.argv)}`', '',
             f'Machine: {machine}. Budget: {args.iters} iterations, batch {args.batch}, random '
             f'{args.crop}x{args.crop} crops + flips, from scratch, seed(s) '
             f'{", ".join(map(str, args.seeds))}, {args.threads} thread(s). Train {len(train)} / '
             f'{held_out}test {len(test)} images (fixed rule, test: {", ".join(test)}); tested '
             'at full size. '
             'Standard = landslide class, global; GeoNeXt = mean of 2 classes; DiGATe = mean '
             'over images (docs/metrics.md).', '',
             '| Model | recipe | threshold | ' + ' | '.join(c for _, c in COLUMNS)
             + ' | params (M) | train time (s) |' + extra,
             '|---|---|---:|' + '---:|' * (len(COLUMNS) + 2 + 2 * bool(val))]
    for r in rows:
        cells = (f' {r.get("best_iter", "-")} | {fmt(r.get("IoU_last", float("nan")))} |'
                 if val else '')  # the yardstick does not validate
        lines.append(f'| {r["name"]}{_seed_tag(r, args)} | {r["recipe"]} | {r["threshold"]:g} | '
                     + ' | '.join(fmt(r[k]) for k, _ in COLUMNS)
                     + f' | {r["params"] / 1e6:.2f} | {r["seconds"]:.0f} |' + cells)
    if len(args.seeds) > 1:
        from benchmarks.seeds import seed_table, summarize_seeds
        lines += ['', f'Over the {len(args.seeds)} seeds (mean ± sample sd):', '',
                  seed_table(summarize_seeds(rows))]
    return '\n'.join(lines) + '\n'


def _seed_tag(row: dict, args) -> str:
    return f' (seed {row["seed"]})' if len(args.seeds) > 1 else ''
