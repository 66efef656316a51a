"""Bi-temporal vs post-only landslide mapping on the synthetic change world, same budget.

Trains each demo config (default: the post-only U-Net baseline, the early-fusion U-Net,
FC-Siam-diff and the BIT-style token model) as written (400 iterations of batch 8, 64x64 crops,
one validation at the end), then predicts the held-out test sites and scores, over all their
pixels:

- landslide IoU, precision and recall of the new scars (the standard protocol, the model's own
  threshold);
- the false-positive rate on the confounders (old scars and bare soil present in both dates:
  share of their pixels predicted landslide), and on the rest of the background.

Writes a Markdown table (and JSON beside it) and prints it::

    OMP_NUM_THREADS=1 python -m benchmarks.change --out benchmarks/results/change_synthetic.md

(from the repository root; configs are read from ``configs/`` there).
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

DEFAULT_CONFIGS = ('demo/change_post_only_unet_synthetic.py',
                   'demo/early_fusion_unet_synthetic.py', 'demo/fc_siam_diff_synthetic.py',
                   'demo/bit_synthetic.py')


def _read_png(path: Path) -> np.ndarray:
    import rasterio
    with rasterio.open(path) as src:
        return src.read(1)


def score(runner) -> dict:
    """Pixel counts over the test split: new-scar IoU and confounder false positives."""
    import torch
    ds = runner.test_dataloader.dataset
    counts = dict(tp=0, fp=0, fn=0, conf=0, conf_fp=0, other=0, other_fp=0)
    runner.model.eval()
    for batch in runner.test_dataloader:
        with torch.no_grad():
            outs = runner.model.test_step(batch)
        for out in outs:
            pred = out.pred_sem_seg.data[0].cpu().numpy().astype(bool)
            gt = out.gt_sem_seg.data[0].cpu().numpy()
            post = Path(out.img_path)
            conf = _read_png(post.parent.parent / 'confounder' / post.name) > 0
            valid = gt != 255
            truth = (gt == 1) & valid
            counts['tp'] += int((pred & truth).sum())
            counts['fp'] += int((pred & ~truth & valid).sum())
            counts['fn'] += int((~pred & truth).sum())
            counts['conf'] += int((conf & valid).sum())
            counts['conf_fp'] += int((pred & conf & valid).sum())
            rest = valid & ~truth & ~conf
            counts['other'] += int(rest.sum())
            counts['other_fp'] += int((pred & rest).sum())
    c = counts
    pct = lambda a, b: 100.0 * a / b if b else float('nan')  # noqa: E731
    return dict(iou=pct(c['tp'], c['tp'] + c['fp'] + c['fn']),
                precision=pct(c['tp'], c['tp'] + c['fp']),
                recall=pct(c['tp'], c['tp'] + c['fn']),
                confounder_fp=pct(c['conf_fp'], c['conf']),
                other_fp=pct(c['other_fp'], c['other']), samples=len(ds), pixels=counts)


def run_one(config: str, work_root: Path, seed: int, iters: int = None,
            data_root: str = None) -> dict:
    from mmengine.config import Config

    from lszoo.engine import build_runner
    cfg = Config.fromfile(str(REPO / 'configs' / config))
    name = Path(config).stem
    cfg.work_dir = str(work_root / name)
    cfg.randomness = dict(seed=seed)
    if iters:
        cfg.train_cfg.max_iters = iters
    if data_root:
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            cfg[key].dataset.data_root = data_root
    cfg.train_cfg.val_interval = cfg.train_cfg.max_iters  # one validation, at the end
    cfg.default_hooks.visualization = dict(type='SegVisualizationHook', draw=False)
    start = time.time()
    runner = build_runner(cfg)
    runner.train()
    train_s = time.time() - start
    result = score(runner)
    result.update(config=config, train_s=train_s, iters=cfg.train_cfg.max_iters,
                  bands=list(cfg.train_dataloader.dataset.bands))
    return result


def scar_like_bound(result: dict) -> float:
    """IoU of marking every confounder pixel too (old scars, bare soil) with every new scar:
    what a post-only model that cannot tell them apart reaches at best."""
    c = result['pixels']
    truth = c['tp'] + c['fn']
    return 100.0 * truth / (truth + c['conf'])


def table(results) -> str:
    lines = ['| config | inputs | landslide IoU | precision | recall | FP on confounders '
             '(% of their pixels) | FP elsewhere (%) | train time |',
             '|---|---|---|---|---|---|---|---|']
    for r in results:
        inputs = 'post' if len(r['bands']) == 3 else 'pre + post'
        lines.append(f"| `configs/{r['config']}` | {inputs} | {r['iou']:.2f} | "
                     f"{r['precision']:.2f} | {r['recall']:.2f} | {r['confounder_fp']:.2f} | "
                     f"{r['other_fp']:.3f} | {r['train_s'] / 60:.1f} min |")
    c = results[0]['pixels']
    lines.append('')
    lines.append(f'Test pixels: {c["tp"] + c["fn"]} new-scar, {c["conf"]} confounder; marking '
                 f'every scar-like pixel (new scars and confounders) gives landslide IoU '
                 f'{scar_like_bound(results[0]):.2f}.')
    return '\n'.join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--configs', nargs='+', default=list(DEFAULT_CONFIGS),
                        help='configs under configs/ (default: %(default)s)')
    parser.add_argument('--work-dir', default='work_dirs/change_benchmark')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--data-root', help='the world\'s folder (default: the configs\')')
    parser.add_argument('--iters', type=int, help='override max_iters (smoke runs)')
    parser.add_argument('--out', help='write the Markdown table here (and .json beside it)')
    parser.add_argument('--from-json', nargs='+',
                        help='only print the table of earlier runs (their .json files)')
    args = parser.parse_args(argv)
    if args.from_json:
        results = [r for path in args.from_json for r in json.loads(Path(path).read_text())]
        print(table(results))
        return 0
    import torch
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '1')))
    results = []
    for config in args.configs:
        results.append(run_one(config, Path(args.work_dir), args.seed, args.iters,
                               args.data_root))
        print(table(results[-1:]), flush=True)
    text = table(results)
    print(text)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + '\n')
        out.with_suffix('.json').write_text(json.dumps(results, indent=1) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
