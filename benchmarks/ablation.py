"""One thing at a time: what moves the timm U-Net ResNet-18 row of the real benchmarks.

    python -m benchmarks.ablation --dataset bijie --seeds 0 1 --variants stretched-schedule \
        cls-1x1-normal bce-only lr-1e-4 --threads 1 --work-root work_dirs/ablation \
        [--baseline rows.json ...] [--cfg-options KEY=VALUE ...]
    python -m benchmarks.ablation --results work_dirs/ablation/bijie/rows.json --baseline ...

(from the repository root). Issue 25 saw the ResNet-18 variant of the timm U-Net fall to a third
of its former IoU when the recipe changed. Each variant here changes exactly one thing of the
config's recipe (:data:`VARIANTS`) and trains the ``UNet-ResNet-18`` row of ``benchmarks.real``
on the same split, budget and seeds; the table sets every variant beside the recipe itself.
``--baseline`` takes ``benchmarks.real`` rows.json files whose ``UNet-ResNet-18`` rows are the
recipe's (so the recipe need not be trained again); ``--results`` tabulates the rows of earlier
runs, without training, e.g. once more seeds of the recipe exist. Results:
``docs/benchmarks/recipes.md``.
"""
import argparse
import os
import os.path as osp
import sys

from benchmarks import real

MODEL = 'UNet-ResNet-18'
RECIPE = 'recipe'


def stretched_schedule(cfg) -> None:
    # what `--cfg-options train_cfg.max_iters=300` gave on the config before the budget schedule
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=200),
        dict(type='PolyLR', power=0.9, eta_min=1e-6, by_epoch=False, begin=200, end=2000)]


def mmseg_classifier(cfg) -> None:
    cfg.model.decode_head.update(cls_kernel_size=1, cls_init='normal')


def bce_only(cfg) -> None:
    cfg.model.decode_head.loss_decode = [dict(type='BinaryCrossEntropyLoss', loss_weight=1.0)]


def lr_1e4(cfg) -> None:
    cfg.optim_wrapper.optimizer.lr = 1e-4


def constant_lr(cfg) -> None:
    cfg.param_scheduler = []


def group_norm(cfg) -> None:
    # 32 groups in the encoder (2-16 channels each in ResNet-18); the decoder's narrowest stage
    # has 16 channels, so 8 groups there (2-32 channels each)
    cfg.model.backbone.norm_layer = 'ChannelGroupNorm'
    cfg.model.decode_head.norm_cfg = dict(cfg.model.decode_head.norm_cfg, type='GN', num_groups=8)


def batch_8(cfg) -> None:
    cfg.train_dataloader.batch_size = 8


def more_augmentation(cfg) -> None:
    # a regulariser for long runs on small sets: scale jitter before the crop (short side
    # 512 * U(0.75, 1.5) for the real sets' 512-pixel short sides), then quarter turns and the
    # optical photometric changes of the CAS base (brightness, contrast) plus the DiGATe
    # recipe's gaussian noise, after the flips (on the [0, 1] image, so min-max cannot undo them)
    pipe = cfg.train_dataloader.dataset.pipeline
    crop = next(i for i, t in enumerate(pipe) if t['type'] == 'RandomCrop')
    pipe.insert(crop, dict(type='RandomResize', scale=(4096, 512), ratio_range=(0.75, 1.5),
                           keep_ratio=True))
    flip = next(i for i, t in enumerate(pipe) if t['type'] == 'RandomFlip')
    pipe[flip + 1:flip + 1] = [
        dict(type='RandomRot90', prob=0.5),
        dict(type='OpticalPhotometric', streams=['optical'], prob=0.5, brightness=0.1,
             contrast=0.1, noise_std=0.02)]


#: name -> (what changes, in one line; the change)
VARIANTS = {
    'stretched-schedule': ('warm-up to iteration 200, poly to 2000, whatever the run (the '
                           'schedule a user setting max_iters=300 got before)', stretched_schedule),
    'cls-1x1-normal': ("mmseg's classifier (1x1, N(0, 0.01)) instead of smp's (3x3, Xavier)",
                       mmseg_classifier),
    'bce-only': ('binary cross-entropy alone, without the Dice term', bce_only),
    'lr-1e-4': ('Adam 1e-4 instead of 1e-3', lr_1e4),
    'constant-lr': ('no warm-up and no decay: constant 1e-3, as the yardstick', constant_lr),
    'groupnorm': ('GroupNorm instead of BatchNorm in encoder and decoder (no batch statistics '
                  'at all)', group_norm),
    'batch-8': ('batch 8 instead of 4 (BatchNorm statistics over 8 crops; twice the crops per '
                'run)', batch_8),
    'more-augmentation': ('scale jitter x0.75-1.5, quarter turns, brightness / contrast / noise '
                          'on top of crops and flips', more_augmentation),
}


def run_variant(variant: str, args, split_dir: str) -> dict:
    """Train the ResNet-18 row with one variant (``benchmarks.real``'s run); one result row."""
    _, config, overrides = next(m for m in real.LIGHT if m[0] == MODEL)
    work_dir = osp.join(args.work_root, args.dataset, f'seed{args.seed}', variant)
    row = real.run_lszoo(variant, config, overrides, args, split_dir, edit=VARIANTS[variant][1],
                         work_dir=work_dir)
    return dict(row, model=MODEL)


def baseline_rows(paths) -> list:
    """The ``UNet-ResNet-18`` rows of ``benchmarks.real`` rows.json files, as the recipe's."""
    from benchmarks.seeds import merge_row_files
    return [dict(row, name=RECIPE) for row in merge_row_files(paths) if row['name'] == MODEL]


def table(rows: list) -> str:
    """Markdown: each variant's IoU per seed and mean, and its change from the recipe's mean
    over the same seeds."""
    import statistics
    by = {}
    for r in rows:
        by.setdefault(r['name'], {})[r['seed']] = r
    base = by.get(RECIPE, {})
    lines = ['| variant | what changes | seeds | IoU per seed | IoU mean | recipe, same seeds | '
             'change | P / R mean |', '|---|---|---|---|---:|---:|---:|---|']
    for name in [RECIPE] + [v for v in VARIANTS if v in by]:
        runs = by.get(name)
        if not runs:
            continue
        seeds = sorted(runs)
        iou = [runs[s]['IoU'] for s in seeds]
        mean = statistics.mean(iou)
        ref = [base[s]['IoU'] for s in seeds if s in base]
        same = statistics.mean(ref) if len(ref) == len(seeds) else float('nan')
        what = 'the config as it is' if name == RECIPE else VARIANTS[name][0]
        p = statistics.mean(runs[s]['Precision'] for s in seeds)
        r = statistics.mean(runs[s]['Recall'] for s in seeds)
        lines.append(f"| {name} | {what} | {', '.join(map(str, seeds))} | "
                     f"{', '.join(f'{v:.2f}' for v in iou)} | {mean:.2f} | {same:.2f} | "
                     f'{mean - same:+.2f} | {p:.1f} / {r:.1f} |')
    return '\n'.join(lines) + '\n'


def run(args) -> int:
    import torch

    import lszoo  # noqa: F401  (registers lszoo modules)

    from lszoo.errors import ConfigError
    from lszoo.utils.fileio import atomic_write_json, atomic_write_text
    unknown = sorted(set(args.variants) - set(VARIANTS))
    if unknown:
        raise ConfigError(f'--variants: unknown {unknown}; choose from {sorted(VARIANTS)}')
    if args.iters < 1 or args.batch < 1 or args.crop % 32:
        raise ConfigError('--iters and --batch must be >= 1 and --crop a multiple of 32')
    rows = baseline_rows(args.baseline or [])
    if args.results:
        from benchmarks.seeds import merge_row_files
        rows += [r for r in merge_row_files(args.results) if r['name'] != RECIPE or
                 not args.baseline]
        print(table(rows))
        return 0
    torch.set_num_threads(args.threads)
    split_dir = osp.join(args.work_root, args.dataset, 'splits')
    real.write_splits(args.data, split_dir, args.dataset)
    out = args.out or osp.join(args.work_root, args.dataset)
    os.makedirs(out, exist_ok=True)
    for args.seed in args.seeds:
        for variant in args.variants:
            rows.append(run_variant(variant, args, split_dir))
            atomic_write_json(osp.join(out, 'rows.json'), rows)  # partial results survive a kill
    md = (f'Command: `python -m benchmarks.ablation {" ".join(args.argv)}`\n\n'
          f'Machine: {real.machine_name()}. {args.dataset}, {args.iters} iterations, batch '
          f'{args.batch}, {args.crop}² crops, {args.threads} thread(s).\n\n' + table(rows))
    atomic_write_text(osp.join(out, 'ablation.md'), md)
    print(md)
    return 0


def parse_args(argv=None):
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(description='lszoo: one recipe change at a time, ResNet-18 row')
    p.add_argument('--dataset', choices=sorted(real.DATASETS), default='bijie')
    p.add_argument('--data', help='image/ + mask/ folder (default: the set in ../shared)')
    p.add_argument('--variants', nargs='+', default=list(VARIANTS), metavar='NAME',
                   help=f'from {", ".join(VARIANTS)}')
    p.add_argument('--seeds', type=int, nargs='+', default=[0])
    p.add_argument('--baseline', nargs='+', metavar='ROWS.json',
                   help="benchmarks.real rows.json files: their UNet-ResNet-18 rows are the "
                   "recipe's")
    p.add_argument('--results', nargs='+', metavar='ROWS.json',
                   help='no training: the table of these earlier runs (with --baseline)')
    p.add_argument('--iters', type=int, default=300)
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--crop', type=int, default=256)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--work-root', default='work_dirs/ablation')
    p.add_argument('--out', help='folder for ablation.md and rows.json (default '
                   '<work-root>/<dataset>)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                   help='merged into the config before the variant')
    args = p.parse_args(argv)
    args.data = args.data or real.DATASETS[args.dataset]
    args.recipe = 'config'  # the config's own recipe, one part changed per variant
    args.validate = 0  # no validation split (benchmarks.real --validate)
    return args


def main(argv=None) -> int:
    from lszoo.cli.tool import run_main
    return run_main(run, parse_args, argv)


if __name__ == '__main__':
    sys.exit(main())
