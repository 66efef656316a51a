"""Learning benchmark on real landslides: every light config under one budget.

    python -m benchmarks.real [--dataset bijie|nepal] [--data DIR] [--iters 300]
                              [--batch 4] [--crop 256] [--recipe config|bce_dice]
                              [--only NAME ...] [--no-yardstick] [--threads 2]
                              [--work-root work_dirs/real_benchmark] [--out DIR]
                              [--seeds 42 ...] [--validate N] [--cfg-options KEY=VALUE ...]

(from the repository root). Results: ``benchmarks/results/real.md``.

The data (``--dataset``) are 36 real images with masks in the ``image/*.png`` + ``mask/*.png``
layout of ``../shared/realdata``: ``bijie_mini`` (Bijie, RGB, short side 512, mask 0/255; no
DEM) or ``nepal_mini`` (Nepal chips, 512x512 RGB, landslides about 0.6 % of the pixels). They
stay where they are: the benchmark only writes split files (and work dirs) below
``--work-root``.

Split rules (fixed, no randomness). Bijie: the 36 image stems sorted by name; every third one
(sorted positions 2, 5, 8, ...) is a test image, the other 24 train. Nepal: the 15 original chips
(stems that are numbers) are the test images, the 21 ``barrdistorted_*`` chips (a third party's
barrel-distorted augmentations of other chips) train; augmentations are never tested on.
With several ``--seeds`` each model is trained once per seed and the table gives mean ± sd and
the per-seed values (:mod:`benchmarks.seeds`). Training: random 256x256 crops with
horizontal/vertical flips, per-image per-band min-max to [0, 1] (the Bijie configs'
normalisation), batch 4, ``--iters`` iterations, ``--seed`` (42), no validation (``--validate
N``: every fourth training image validates N times and the best checkpoint is tested beside the
last one, :mod:`benchmarks.validation`). Test: the 12
test images at full size (padded to the model's size divisor and cropped back, as mmseg does),
scored once by :class:`~lszoo.evaluation.LandslideMetric` with all three protocols.

``--cfg-options`` are merged into every lszoo config after the recipe, to vary one setting.
``--recipe config`` trains each config as it stands (its own loss, optimiser and schedule);
``--recipe bce_dice`` replaces them with BCE + Dice and Adam 1e-3 with a linear warm-up then a
polynomial decay. The external yardstick (``--yardstick``) is segmentation_models_pytorch's U-Net
with a ResNet-18 encoder, BCE + Dice, Adam 1e-3 constant, trained on the same crops and scored
the same way; smp is a benchmark-only dependency (``pip install segmentation-models-pytorch``).
"""
import argparse
import os
import os.path as osp
import subprocess
import sys
import time
from pathlib import Path

from lszoo.errors import ConfigError, DataError, LSZooError

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
NUM_IMAGES = 36

#: (row name, config, model overrides): the light variants, all from scratch, RGB input
LIGHT = [
    ('UNet-w16', 'configs/unet/unet_bijie.py',
     dict(backbone=dict(base_channels=16), decode_head=dict(in_channels=16, channels=16))),
    ('DeepLabV3+-MobileNetV2', 'configs/deeplabv3plus/deeplabv3plus_mobilenetv2_bijie.py', {}),
    ('SegFormer-MiT-B0', 'configs/segformer/segformer_bijie.py', {}),
    ('UNet-EfficientNet-B0', 'configs/timm_unet/timm_unet_bijie.py', {}),
    ('UNet-ResNet-18', 'configs/timm_unet/timm_unet_bijie.py',
     dict(backbone=dict(model_name='resnet18'),
          decode_head=dict(in_channels=[64, 64, 128, 256, 512]))),
    ('GeoNeXt-atto', 'configs/geonext/geonext_bijie.py',
     # atto has no in22k tag
     dict(backbone=dict(arch='atto', pretrained=False, pretrained_tag=None),
          decode_head=dict(in_channels=[40, 80, 160, 320]))),
    # no DEM in the samples: stream B sees the RGB too (stated in benchmarks/results/real.md)
    ('DiGATe-UNet-lcnet050', 'configs/digate_unet/digate_unet_bijie.py',
     dict(backbone=dict(model_name='lcnet_050', stream_channels=([0, 1, 2], [0, 1, 2]),
                        frozen=False, pretrained=False),
          neck=dict(in_channels=(16, 32, 64, 128, 256)),
          decode_head=dict(in_channels=(16, 32, 64, 128, 256)))),
]
RECIPES = ('config', 'bce_dice')
DATASETS = {name: osp.join(REPO, '..', 'shared', 'realdata', f'{name}_mini')
            for name in ('bijie', 'nepal')}


def find_samples(data: str):
    """Sorted image stems of ``data/image/*.png`` that have ``data/mask/<stem>.png``."""
    root = Path(data)
    img_dir, mask_dir = root / 'image', root / 'mask'
    if not img_dir.is_dir() or not mask_dir.is_dir():
        raise DataError(f'--data {data}: expected {img_dir}/*.png and {mask_dir}/*.png '
                        '(the bijie_mini layout, ../shared/realdata/README.md)')
    stems = sorted(p.stem for p in img_dir.glob('*.png'))
    missing = [s for s in stems if not (mask_dir / f'{s}.png').is_file()]
    if missing:
        raise DataError(f'--data {data}: images without a mask in {mask_dir}: {missing[:5]}')
    if len(stems) < 3:
        raise DataError(f'--data {data}: found {len(stems)} image(s) with masks; need >= 3')
    return stems


def split_stems(stems, dataset: str = 'bijie'):
    """The fixed rules (module doc): (train, test) stems."""
    stems = sorted(stems)
    if dataset == 'nepal':
        test = [s for s in stems if s.isdigit()]
        train = [s for s in stems if not s.isdigit()]
        if not test or not train:
            raise DataError('nepal split: need both numbered original chips (test) and '
                            f'augmented chips (train); found {len(test)} and {len(train)}')
        return train, test
    test = stems[2::3]
    train = [s for i, s in enumerate(stems) if i % 3 != 2]
    return train, test


def write_splits(data: str, split_dir: str, dataset: str = 'bijie', validate: bool = False):
    """Write the BijieDataset split files of the fixed rule; returns (train, test) stems, and
    with ``validate`` (train, val, test) with the validation images carved from training."""
    train, test = split_stems(find_samples(data), dataset)
    splits = [('train', train), ('test', test)]
    if validate:
        from benchmarks.validation import carve
        train, val = carve(train)
        splits = [('train', train), ('val', val), ('test', test)]
    os.makedirs(split_dir, exist_ok=True)
    for name, stems in splits:
        with open(osp.join(split_dir, f'bijie_{name}_seed42.txt'), 'w') as f:
            f.write(''.join(f'landslide/{s}\n' for s in stems))
    return tuple(stems for _, stems in splits)


def dataset_cfg(data: str, split_dir: str, split: str, pipeline) -> dict:
    return dict(type='BijieDataset', data_root=osp.abspath(data), split=split,
                bands=['R', 'G', 'B'], stream_layout={'optical': [0, 1, 2]},
                class_dirs=dict(landslide='.', non_landslide=None), split_seed=42,
                split_dir=osp.abspath(split_dir), pipeline=pipeline)


def pipelines(crop: int, meta_keys=None):
    pack = dict(type='PackSegInputs', meta_keys=meta_keys) if meta_keys else dict(
        type='PackSegInputs')
    train = [dict(type='LoadLandslideSample'), dict(type='NormalizeBands', mode='minmax'),
             dict(type='RandomCrop', crop_size=(crop, crop)),
             dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']), pack]
    test = [dict(type='LoadLandslideSample'), dict(type='NormalizeBands', mode='minmax'), pack]
    return train, test


def candidate_recipe(cfg, iters: int) -> None:
    """BCE + Dice, Adam 1e-3 (no weight decay), linear warm-up over 10 % then poly 0.9."""
    warm = max(iters // 10, 1)
    cfg.model.decode_head.loss_decode = [
        dict(type='BinaryCrossEntropyLoss', loss_weight=1.0),
        dict(type='BinaryDiceLoss', loss_weight=1.0)]
    cfg.optim_wrapper = dict(type='OptimWrapper', optimizer=dict(
        type='Adam', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.0))
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=warm),
        dict(type='PolyLR', power=0.9, eta_min=1e-6, by_epoch=False, begin=warm, end=iters)]


def benchmark_config(config: str, overrides: dict, work_dir: str, data: str, split_dir: str,
                     iters: int, batch: int, crop: int, recipe: str, seed: int = 42,
                     cfg_options: dict = None):
    """``config`` with the benchmark's data, budget and (optionally) the candidate recipe;
    ``cfg_options`` (``--cfg-options``, dotted keys) are merged last, so that one setting can be
    varied against the recipe, e.g. ``param_scheduler=None`` for a constant learning rate."""
    from lszoo.config import load_config

    cfg = load_config(osp.join(REPO, config))
    cfg.merge_from_dict(dict(model=overrides))
    if 'stream_channels' in cfg.model.backbone:  # two streams: the overrides pick RGB bands
        if max(max(s) for s in cfg.model.backbone.stream_channels) > 2:
            raise ConfigError(f'{config}: stream_channels must use the RGB bands 0-2 only')
    else:
        cfg.model.backbone.in_channels = 3
    train_pipe, test_pipe = pipelines(crop, cfg.get('meta_keys'))
    # tools/train.py writes cfg.crop_size into every training RandomCrop (lszoo.config.crop_size):
    # left at the dataset base's (256, 256) it silently replaced --crop
    cfg.crop_size = (crop, crop)
    cfg.train_dataloader = dict(
        batch_size=batch, num_workers=0, persistent_workers=False,
        sampler=dict(type='InfiniteSampler', shuffle=True),
        dataset=dataset_cfg(data, split_dir, 'train', train_pipe))
    cfg.test_dataloader = dict(
        batch_size=1, num_workers=0, persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dataset_cfg(data, split_dir, 'test', test_pipe))
    cfg.test_evaluator = dict(type='LandslideMetric')
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    # the config's own schedule, scaled from its max_iters to the budget (warm-up and decay keep
    # their proportions); phases given as fractions of the run follow the budget by themselves
    old_iters = (cfg.get('train_cfg') or {}).get('max_iters')
    schedulers = cfg.get('param_scheduler') or []
    for sched in schedulers if isinstance(schedulers, list) else [schedulers]:
        if 'begin_fraction' in sched or 'end_fraction' in sched:
            continue
        if old_iters and sched.get('by_epoch', True) is False:
            begin = min(round(sched.get('begin', 0) * iters / old_iters), iters - 1)
            sched['begin'] = begin
            if 'end' in sched:  # at least one iteration, even for tiny budgets
                sched['end'] = max(min(round(sched['end'] * iters / old_iters), iters), begin + 1)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=iters)
    if recipe == 'bce_dice':
        candidate_recipe(cfg, iters)
    elif recipe != 'config':
        raise ConfigError(f'--recipe must be one of {RECIPES}, got {recipe!r}')
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.work_dir = osp.abspath(work_dir)
    return benchmark_run_settings(cfg, iters, seed)


def benchmark_run_settings(cfg, iters: int, seed: int = 42):
    """The run settings every benchmark shares: the seed (42 unless told), one checkpoint at the
    end, a tenth-of-the-budget log interval, no drawing, no overlay hook, no threshold calibration
    (the tables score the config's threshold; ``benchmarks.threshold`` the calibrated one), no
    test after training."""
    cfg.randomness = dict(seed=seed)
    hooks = cfg.default_hooks
    hooks.logger.interval = max(iters // 10, 1)
    hooks.checkpoint.update(by_epoch=False, interval=iters, max_keep_ckpts=1)
    hooks.checkpoint.pop('save_best', None)
    if 'visualization' in hooks:
        hooks.visualization['draw'] = False
    from lszoo.utils.runner import custom_hooks_without
    cfg.custom_hooks = custom_hooks_without(cfg, 'LandslideOverlayHook', 'CalibrateThresholdHook')
    cfg.test_after_train = False
    return cfg


def count_params(cfg) -> int:
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    model_cfg = cfg.model.copy()
    model_cfg.pop('pretrained', None)
    return sum(p.numel() for p in MODELS.build(model_cfg).parameters())


def train_subprocess(config_path: str, threads: int, log_path: str) -> float:
    """tools/train.py in its own process; returns the wall time in seconds."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    start = time.time()
    with open(log_path, 'w') as log:
        proc = subprocess.run([sys.executable, osp.join(REPO, 'tools', 'train.py'),
                               config_path, '--no-test'], cwd=REPO, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise LSZooError(f'training {config_path} failed (exit {proc.returncode}); see {log_path}')
    return time.time() - start


def run_lszoo(name, config, overrides, args, split_dir, edit=None, work_dir=None) -> dict:
    """Train one config, test it on the test images; one table row. ``edit(cfg)``, when given,
    changes the benchmark config last (``benchmarks.ablation``'s variants)."""
    from lszoo.benchmark.compare import evaluate

    work_dir = work_dir or osp.join(args.work_root, args.dataset, args.recipe,
                                    f'seed{args.seed}', name)
    os.makedirs(work_dir, exist_ok=True)
    cfg = benchmark_config(config, overrides, work_dir, args.data, split_dir, args.iters,
                           args.batch, args.crop, args.recipe, args.seed, args.cfg_options)
    if args.validate:
        from benchmarks.validation import add_validation
        add_validation(cfg, dataset_cfg(args.data, split_dir, 'val', pipelines(
            args.crop, cfg.get('meta_keys'))[1]), args.iters, args.validate)
    if edit is not None:
        edit(cfg)
    path = osp.join(work_dir, f'{name}.py')
    cfg.dump(path)
    print(f'real benchmark: training {name} ({config}, recipe {args.recipe}), {args.iters} '
          'iterations ...', flush=True)
    seconds = train_subprocess(path, args.threads, osp.join(work_dir, 'train.log'))
    threshold = cfg.model.decode_head.get('threshold', 0.5)
    row = dict(name=name, config=config, recipe=args.recipe, params=count_params(cfg),
               seconds=seconds, threshold=threshold, seed=args.seed)
    checkpoint = work_dir  # its last checkpoint
    if args.validate:  # the best validation checkpoint is the row; the last one beside it
        from benchmarks.validation import best_checkpoint
        last = evaluate(name, path, work_dir, osp.join(work_dir, 'test_last'))
        row.update({f'{k}_last': v for k, v in last.items()})
        checkpoint, row['best_iter'] = best_checkpoint(work_dir)
    return dict(row, **evaluate(name, path, checkpoint, osp.join(work_dir, 'test')))


def run_smp_yardstick(args, split_dir) -> dict:
    """The smp U-Net ResNet-18 row, on the same datasets and crops."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    from benchmarks.yardstick import import_smp, run_yardstick

    import_smp()
    init_default_scope('mmseg')
    train_pipe, test_pipe = pipelines(args.crop)
    train_set = DATASETS.build(dataset_cfg(args.data, split_dir, 'train', train_pipe))
    test_set = DATASETS.build(dataset_cfg(args.data, split_dir, 'test', test_pipe))
    print(f'real benchmark: training the yardstick (smp U-Net ResNet-18, BCE + Dice, Adam 1e-3), '
          f'{args.iters} iterations ...', flush=True)
    row = run_yardstick(train_set, test_set, args.iters, args.batch, seed=args.seed)
    return dict(name='smp U-Net ResNet-18 (yardstick)', config='segmentation_models_pytorch',
                recipe='BCE + Dice, Adam 1e-3', threshold=0.5, seed=args.seed, **row)


def machine_name() -> str:
    import platform
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f
                       if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    return f'{cpu}, {os.cpu_count()} logical CPU(s), no GPU used'


def run(args) -> int:
    """The whole benchmark: split, every selected config, the yardstick, the table."""
    import torch

    import lszoo  # noqa: F401  (registers lszoo modules)

    torch.set_num_threads(args.threads)
    names = [n for n, _, _ in LIGHT]
    if args.only:  # 'yardstick' alone: the yardstick row only
        unknown = sorted(set(args.only) - set(names) - {'yardstick'})
        if unknown:
            raise ConfigError(f'--only: unknown model(s) {unknown}; choose from {names} '
                              "or 'yardstick'")
    if args.recipe not in RECIPES:
        raise ConfigError(f'--recipe must be one of {RECIPES}, got {args.recipe!r}')
    if args.iters < 1 or args.batch < 1 or args.crop % 32:
        raise ConfigError('--iters and --batch must be >= 1 and --crop a multiple of 32')
    if not 0 <= args.validate <= args.iters:
        raise ConfigError(f'--validate must be between 0 (off) and --iters ({args.iters}), '
                          f'got {args.validate}')
    if args.yardstick:
        from benchmarks.yardstick import import_smp
        import_smp()  # fail before any training
    split_dir = osp.join(args.work_root, args.dataset, 'splits')
    train, *val, test = write_splits(args.data, split_dir, args.dataset, args.validate > 0)
    rows = []
    out = args.out or osp.join(args.work_root, args.dataset, args.recipe)
    os.makedirs(out, exist_ok=True)
    for args.seed in args.seeds:
        rows += run_seed(args, split_dir, out, rows)
    from lszoo.utils.fileio import atomic_write_text
    from benchmarks.real_table import markdown
    md = markdown(rows, args, train, test, machine_name(), val=val[0] if val else ())
    atomic_write_text(osp.join(out, 'real.md'), md)
    print(md)
    return 0


def run_seed(args, split_dir: str, out: str, done: list) -> list:
    """Every selected model (and the yardstick) with ``args.seed``; rows.json kept current."""
    from lszoo.utils.fileio import atomic_write_json
    rows = []
    models = [m for m in LIGHT if not args.only or m[0] in args.only]
    for name, config, overrides in models:
        rows.append(run_lszoo(name, config, overrides, args, split_dir))
    if args.yardstick:
        rows.append(run_smp_yardstick(args, split_dir))
    for row in rows:
        print(f'real benchmark: {row["name"]}, seed {args.seed}: IoU {row["IoU"]:.2f} in '
              f'{row["seconds"]:.0f} s', flush=True)
    atomic_write_json(osp.join(out, 'rows.json'), done + rows)  # partial results survive a kill
    return rows


def parse_args(argv=None):
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(description='Real Bijie learning benchmark (lszoo)')
    p.add_argument('--dataset', choices=sorted(DATASETS), default='bijie',
                   help='which real set and split rule (module doc)')
    p.add_argument('--data', help='folder with image/*.png and mask/*.png (default '
                   '../shared/realdata/bijie_mini or nepal_mini)')
    p.add_argument('--iters', type=int, default=300, help='training iterations per model')
    p.add_argument('--batch', type=int, default=4, help='training batch size')
    p.add_argument('--crop', type=int, default=256, help='training crop side')
    p.add_argument('--recipe', default='config', help="'config' (each config's own loss and "
                   "schedule) or 'bce_dice' (BCE + Dice, Adam 1e-3, warm-up + poly)")
    p.add_argument('--only', nargs='+', metavar='NAME', help="run only these models ('yardstick' "
                   'alone: only the yardstick)')
    p.add_argument('--no-yardstick', dest='yardstick', action='store_false',
                   help='skip the segmentation_models_pytorch U-Net ResNet-18 row')
    p.add_argument('--threads', type=int, default=2, help='torch / OpenMP threads')
    p.add_argument('--work-root', default='work_dirs/real_benchmark',
                   help='split files and one work dir per model below this folder')
    p.add_argument('--out', help='folder for real.md and rows.json (default '
                   '<work-root>/<recipe>)')
    p.add_argument('--seeds', '--seed', dest='seeds', type=int, nargs='+', default=[42],
                   help='seed(s) of every training, the yardstick included (default 42); '
                   'several: one run per seed, mean ± sd in the table')
    p.add_argument('--validate', type=int, default=0, metavar='N',
                   help='hold every fourth training image out, validate N times, test the '
                   'best checkpoint and the last (benchmarks/validation.py; default 0: off)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                   help='merged into every lszoo config after the recipe (not the yardstick), '
                   'e.g. param_scheduler=None or model.decode_head.upsample_mode=bilinear')
    args = p.parse_args(argv)
    args.data = args.data or DATASETS[args.dataset]
    args.seed = args.seeds[0]
    return args


def main(argv=None) -> int:
    from lszoo.cli.tool import run_main
    return run_main(run, parse_args, argv)


if __name__ == '__main__':
    sys.exit(main())
