"""Learning benchmark on lszoo's synthetic landslides that anyone can rerun on a CPU.

    python -m benchmarks.synthetic [--iters 300] [--batch 8] [--crop 64] [--lr 1e-3]
                                   [--threads 2] [--full] [--only NAME ...]
                                   [--out-dir benchmarks/results/synthetic]
                                   [--work-root work_dirs/synthetic_benchmark]

(from the repository root).

Every model is trained with the same budget on the same data: the in-memory synthetic dataset of
``configs/_base_/datasets/synthetic.py`` (R, G, B, DEM, slope; train seed 1, test seed 3), the same
training pipeline (random ``--crop`` crops of the 128x128 scenes, flips), the same batch size,
iterations, optimiser (Adam, ``--lr``, no weight decay, constant rate) and seed. What stays each
model's own is its architecture, loss and hooks (e.g. GeoNeXt's weight EMA). Each run goes through
``tools/train.py`` in its own process; then :func:`lszoo.benchmark.compare.compare` tests every
model once on the 64 whole test scenes and writes ``comparison.{md,csv,png}`` to ``--out-dir``,
with the training settings, wall times and machine appended to the Markdown.

The default set are the light models (a few minutes each on two cores); ``--full`` adds the
heavy encoders (UNet width 64, DeepLabV3+ ResNet-50, SegFormer MiT-B2), which multiply the time.
"""
import argparse
import json
import os
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

#: (row name, config) of the default, light set
LIGHT = [
    ('UNet-w16', 'configs/demo/unet_synthetic.py'),
    ('DeepLabV3+-MobileNetV2', 'configs/deeplabv3plus/deeplabv3plus_mobilenetv2_synthetic.py'),
    ('SegFormer-MiT-B0', 'configs/segformer/segformer_synthetic.py'),
    ('UNet-EfficientNet-B0', 'configs/timm_unet/timm_unet_synthetic.py'),
    ('UNet-ConvNeXtV2-atto', 'configs/timm_unet/timm_unet_convnextv2-atto_synthetic.py'),
    ('DiGATe-UNet-lcnet050', 'configs/demo/digate_unet_synthetic.py'),
    ('GeoNeXt-atto', 'configs/demo/geonext_synthetic.py'),
]
#: added by --full
HEAVY = [
    ('UNet-w64', 'configs/unet/unet_synthetic.py'),
    ('DeepLabV3+-R50', 'configs/deeplabv3plus/deeplabv3plus_synthetic.py'),
    ('SegFormer-MiT-B2', 'configs/segformer/segformer_mit-b2_synthetic.py'),
]
#: the test data every model must share (keys of the synthetic test dataset dict)
SHARED_TEST_KEYS = ('type', 'num_samples', 'size', 'seed', 'bands', 'hard')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Train every model on the synthetic data with one '
                                'budget, then compare them')
    p.add_argument('--iters', type=int, default=300, help='training iterations per model')
    p.add_argument('--batch', type=int, default=8, help='training batch size')
    p.add_argument('--crop', type=int, default=64, help='training crop side (scenes are 128)')
    p.add_argument('--lr', type=float, default=1e-3, help='Adam learning rate (constant)')
    p.add_argument('--threads', type=int, default=2, help='torch / OpenMP threads per run')
    p.add_argument('--full', action='store_true', help='add the heavy encoders')
    p.add_argument('--only', nargs='+', metavar='NAME', help='run only these rows')
    p.add_argument('--out-dir', default='benchmarks/results/synthetic',
                   help='where comparison.{md,csv,png} go')
    p.add_argument('--work-root', default='work_dirs/synthetic_benchmark',
                   help='one work dir per model below this folder')
    p.add_argument('--skip-train', action='store_true',
                   help='reuse the checkpoints already in the work dirs')
    p.add_argument('--latency-runs', type=int, default=20, help='timed forward passes')
    p.add_argument('--world', choices=['hard', 'easy'], default='hard',
                   help="synthetic world: 'hard' (smaller scars, scar-coloured quarries on steep "
                   "ground, more noise; made for model comparisons) or the default 'easy' one")
    p.add_argument('--num-test', type=int, default=None,
                   help='test on only the first N synthetic test scenes (quick checks; the '
                   'committed table uses all 64)')
    return p.parse_args(argv)


def benchmark_config(config: str, work_dir: str, iters: int, batch: int, crop: int, lr: float,
                     num_test=None, hard: bool = True):
    """The config with the shared budget applied (a Config, ready to dump)."""
    from lszoo.config import load_config
    from lszoo.errors import ConfigError

    cfg = load_config(osp.join(REPO, config))
    test_ds = cfg.test_dataloader.dataset
    if test_ds.get('type') != 'SyntheticLandslideDataset':
        raise ConfigError(f'{config}: the benchmark needs the synthetic dataset base, got '
                          f'{test_ds.get("type")}')
    cfg.work_dir = osp.abspath(work_dir)
    meta_keys = cfg.get('meta_keys')
    pack = dict(type='PackSegInputs', meta_keys=meta_keys) if meta_keys else dict(
        type='PackSegInputs')
    cfg.train_dataloader.batch_size = batch
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.crop_size = (crop, crop)  # tools/train.py writes it into the RandomCrop below
    cfg.train_dataloader.dataset.pipeline = [
        dict(type='RandomCrop', crop_size=(crop, crop)),
        dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
        pack,
    ]
    cfg.test_dataloader.num_workers = 0
    if num_test:
        test_ds['num_samples'] = num_test
    # the same world for training and testing, for every model
    test_ds['hard'] = hard
    cfg.train_dataloader.dataset['hard'] = hard
    cfg.test_dataloader.persistent_workers = False
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=iters)
    # no validation during the run: the test split is scored once by lszoo.benchmark.compare
    cfg.val_cfg = None
    cfg.val_dataloader = None
    cfg.val_evaluator = None
    cfg.optim_wrapper = dict(type='OptimWrapper',
                             optimizer=dict(type='Adam', lr=lr, betas=(0.9, 0.999),
                                            weight_decay=0.0))
    cfg.param_scheduler = []
    from benchmarks.real import benchmark_run_settings
    benchmark_run_settings(cfg, iters)
    return cfg


def check_same_test_data(cfgs) -> None:
    """Every model is scored on the same synthetic test scenes."""
    from lszoo.errors import ConfigError
    ref_name, ref = None, None
    for name, cfg in cfgs:
        ds = cfg.test_dataloader.dataset
        key = {k: (list(ds[k]) if k == 'bands' else ds.get(k)) for k in SHARED_TEST_KEYS}
        if ref is None:
            ref_name, ref = name, key
        elif key != ref:
            raise ConfigError(f'{name} tests on {key}, {ref_name} on {ref}: the benchmark needs '
                              'one test set')


def run(args) -> int:
    import torch

    from lszoo.benchmark.compare import compare, portable_path
    from benchmarks.real import train_subprocess
    from lszoo.errors import ConfigError
    torch.set_num_threads(args.threads)

    models = LIGHT + (HEAVY if args.full else [])
    if args.only:
        unknown = set(args.only) - {n for n, _ in LIGHT + HEAVY}
        if unknown:
            raise ConfigError(f'unknown --only names {sorted(unknown)}; choose from '
                              f'{[n for n, _ in LIGHT + HEAVY]}')
        models = [(n, c) for n, c in LIGHT + HEAVY if n in args.only]
    prepared = []
    for name, config in models:
        work_dir = osp.join(args.work_root, name)
        cfg = benchmark_config(config, work_dir, args.iters, args.batch, args.crop, args.lr,
                               args.num_test, args.world == 'hard')
        prepared.append((name, config, work_dir, cfg))
    check_same_test_data([(n, c) for n, _, _, c in prepared])
    times = {}
    pairs = []
    for name, config, work_dir, cfg in prepared:
        os.makedirs(work_dir, exist_ok=True)
        path = osp.join(work_dir, f'{name}.py')
        cfg.dump(path)
        if not args.skip_train:
            print(f'benchmark: training {name} ({config}), {args.iters} iterations ...',
                  flush=True)
            times[name] = train_subprocess(path, args.threads, osp.join(work_dir, 'train.log'))
            print(f'benchmark: {name}: {times[name]:.0f} s '
                  f'({times[name] / args.iters:.2f} s/iter incl. start-up)', flush=True)
        pairs += [path, work_dir]
    command = 'python -m benchmarks.synthetic ' + ' '.join(args.argv)
    rows = compare(
        [(n, p, w) for n, p, w in zip([m[0] for m in prepared], pairs[0::2], pairs[1::2])],
        args.out_dir, shape=(128, 128), runs=args.latency_runs, warmup=3,
        title='Synthetic learning benchmark', command=command,
        work_dir=osp.join(args.work_root, 'compare'))
    # the table's record of what was trained: each model's config next to it
    os.makedirs(osp.join(args.out_dir, 'configs'), exist_ok=True)
    for name, _, _, cfg in prepared:
        cfg.work_dir = portable_path(cfg.work_dir)  # no absolute path of this machine
        cfg.dump(osp.join(args.out_dir, 'configs', f'{name}.py'))

    settings = dict(iters=args.iters, batch=args.batch, crop=args.crop, lr=args.lr,
                    threads=args.threads, train_seconds=times,
                    machine=rows[0]['device_name'], torch=torch.__version__)
    with open(osp.join(args.out_dir, 'settings.json'), 'w') as f:
        json.dump(settings, f, indent=2)
    lines = ['', '## Training settings', '',
             f'Same for every model: {args.iters} iterations, batch {args.batch}, random '
             f'{args.crop}x{args.crop} crops of the 128x128 synthetic scenes with flips '
             f'(configs/_base_/datasets/synthetic.py, {args.world} world: R, G, B, DEM, slope; '
             '256 train scenes, '
             f'seed 1), Adam lr {args.lr} constant, no weight decay, seed 42, '
             f'{args.threads} threads, on {rows[0]["device_name"]}. Test: the '
             f'{args.num_test or 64} whole 128x128 test scenes (seed 3), scored once after '
             'training. Each model keeps its own loss and hooks. Models are randomly '
             'initialised (no pretrained weights).', '']
    if times:
        lines += ['| Model | Training wall time (s) |', '|---|---:|']
        lines += [f'| {n} | {t:.0f} |' for n, t in times.items()]
    with open(osp.join(args.out_dir, 'comparison.md'), 'a') as f:
        f.write('\n'.join(lines) + '\n')
    with open(osp.join(args.out_dir, 'comparison.md')) as f:
        print(f.read())
    return 0


def main(argv=None) -> int:
    from lszoo.cli.tool import run_main
    return run_main(run, parse_args, argv)


if __name__ == '__main__':
    sys.exit(main())
