"""A whole training iteration through lszoo's runner beside a plain PyTorch loop, and the bare
training step beside segmentation_models_pytorch's U-Net.

    python -m benchmarks.train_loop [--data DIR] [--iters 40] [--warmup 5] [--batch 4]
                                    [--crop 256] [--step-reps 10] [--threads 1] [--json FILE]
                                    [--skip-step] [--skip-loop] [--num-workers 0]
                                    [--device cpu|cuda] [--cfg-options KEY=VALUE ...]

(from the repository root). Results: ``benchmarks/results/train_loop.md``.

The model is ``configs/timm_unet/timm_unet_bijie.py`` with ``model.backbone.model_name=resnet18``
on RGB (as ``benchmarks/real.py`` trains it), the data the real Bijie samples
(``../shared/realdata/bijie_mini``, the fixed split of :mod:`benchmarks.real`: random crops,
flips, min-max), batch 4, 256 x 256.

1. **Loop** (``--iters`` timed iterations after ``--warmup``): lszoo's runner
   (:func:`lszoo.engine.build_runner`, as ``tools/train.py`` builds it: the config's hooks, logger,
   parameter schedulers; no validation, no checkpoint inside the run) trains, and after each of its
   iterations a hook of the lowest priority runs one step of a plain loop: a second instance of
   the same model, ``torch.utils.data.DataLoader`` over the runner's own dataset object (same
   pipeline), ``model(x, mode='tensor')``, BCE + Dice (:func:`benchmarks.yardstick.bce_dice`),
   Adam 1e-3. The two alternate one iteration each, so a busy machine slows both alike. lszoo's
   iteration is split by timestamps into data (fetching the batch), step (``train_step``:
   preprocessing, loss, backward, optimiser) and hooks (every ``after_train_iter`` hook).
2. **Step** (``--step-reps``): the bare training step on one fixed batch, interleaved
   (:func:`lszoo.benchmark.side_by_side.interleave`): lszoo's ``model.train_step`` with the
   config's optimiser wrapper; the same lszoo model stepped plainly (logits, ``bce_dice``, Adam);
   smp's ``Unet('resnet18')`` stepped the same way. smp is a benchmark-only dependency
   (``pip install segmentation-models-pytorch``, the ``benchmark`` extra).
"""
import argparse
import os.path as osp
import statistics
import sys
import tempfile
import time

from mmengine.hooks import Hook

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = 'configs/timm_unet/timm_unet_bijie.py'
RESNET18 = dict(backbone=dict(model_name='resnet18'))


def loop_config(data: str, work_dir: str, iters: int, batch: int, crop: int, workers: int,
                cfg_options=None):
    """The real benchmark's timm U-Net ResNet-18 config (its data, crops and recipe) with the
    config's own hooks; no checkpoint or validation inside the run."""
    from benchmarks.real import benchmark_config, write_splits
    split_dir = osp.join(work_dir, 'splits')
    write_splits(data, split_dir)
    cfg = benchmark_config(CONFIG, RESNET18, work_dir, data, split_dir, iters, batch, crop,
                           'config', cfg_options=cfg_options)
    cfg.default_hooks.logger.interval = 50  # the config's default, not the benchmark's tenth
    cfg.default_hooks.checkpoint.update(interval=iters + 1, save_last=False)
    cfg.train_dataloader.num_workers = workers
    cfg.train_dataloader.persistent_workers = workers > 0
    cfg.env_cfg.torch_threads = None  # keep this process's thread count (--threads)
    return cfg


def sync(device: str) -> None:
    import torch
    if device.startswith('cuda'):
        torch.cuda.synchronize()


class Stamp(Hook):
    """A hook that records ``time.perf_counter()`` at ``before_train_iter`` and
    ``after_train_iter`` (registered at the highest priority: it runs first)."""

    priority = 'HIGHEST'

    def __init__(self, device='cpu'):
        self.before, self.after, self.device = [], [], device

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        sync(self.device)
        self.before.append(time.perf_counter())

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        sync(self.device)
        self.after.append(time.perf_counter())


class PlainLoop(Hook):
    """The plain PyTorch loop, one step per lszoo iteration (lowest priority: runs after every
    other hook); records when lszoo's hooks ended and how long each plain step took."""

    priority = 'LOWEST'

    def __init__(self, dataset, model_cfg, batch: int, seed: int = 0, device='cpu'):
        import torch
        from mmseg.registry import MODELS
        torch.manual_seed(seed)
        self.model = MODELS.build(model_cfg)
        self.model.init_weights()
        self.device = device
        self.model.to(device)
        self.model.train()
        self.optim = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        gen = torch.Generator().manual_seed(seed)
        self.loader = torch.utils.data.DataLoader(dataset, batch_size=batch, shuffle=True,
                                                  drop_last=True, collate_fn=self.collate,
                                                  generator=gen)
        self.batches = iter(())
        self.hooks_done, self.resumed, self.data_s, self.step_s = [], [], [], []

    @staticmethod
    def collate(items):
        import torch
        x = torch.stack([it['inputs'].float() for it in items])
        y = torch.stack([it['data_samples'].gt_sem_seg.data[0].long() for it in items])
        return x, y

    def next_batch(self):
        try:
            return next(self.batches)
        except StopIteration:
            self.batches = iter(self.loader)
            return next(self.batches)

    def step(self):
        from benchmarks.yardstick import bce_dice
        t0 = time.perf_counter()
        x, y = (t.to(self.device) for t in self.next_batch())
        sync(self.device)
        t1 = time.perf_counter()
        loss = bce_dice(self.model(x, mode='tensor'), y)
        self.optim.zero_grad(set_to_none=True)
        loss.backward()
        self.optim.step()
        sync(self.device)
        self.data_s.append(t1 - t0)
        self.step_s.append(time.perf_counter() - t1)

    def before_train(self, runner):
        self.resumed.append(time.perf_counter())

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        sync(self.device)
        self.hooks_done.append(time.perf_counter())
        self.step()
        self.resumed.append(time.perf_counter())


def run_loop(args) -> dict:
    """Part 1: lszoo's runner and the plain loop, alternating; per-iteration times in ms."""
    from lszoo.engine import build_runner
    with tempfile.TemporaryDirectory(prefix='lszoo_train_loop_') as work_dir:
        total = args.warmup + args.iters
        cfg = loop_config(args.data, work_dir, total, args.batch, args.crop, args.num_workers,
                          args.cfg_options)
        runner = build_runner(cfg)
        stamp = Stamp(args.device)
        plain = PlainLoop(runner.train_dataloader.dataset, cfg.model, args.batch,
                          device=args.device)
        runner.register_hook(stamp, 'HIGHEST')
        runner.register_hook(plain, 'LOWEST')
        runner.train()
    w = args.warmup
    ms = lambda seq: [t * 1e3 for t in seq[w:]]  # noqa: E731
    resumed, before, after, done = (plain.resumed[:-1], stamp.before, stamp.after,
                                    plain.hooks_done)
    lszoo = dict(data=ms([b - r for r, b in zip(resumed, before)]),
                 step=ms([a - b for b, a in zip(before, after)]),
                 hooks=ms([d - a for a, d in zip(after, done)]),
                 total=ms([d - r for r, d in zip(resumed, done)]))
    plain_ms = dict(data=ms(plain.data_s), step=ms(plain.step_s),
                    total=ms([a + b for a, b in zip(plain.data_s, plain.step_s)]))
    return dict(lszoo=lszoo, plain=plain_ms, ratio=ratios(plain_ms['total'], lszoo['total']))


def ratios(a, b) -> dict:
    """Median, quartiles and range of the per-iteration ratios b/a."""
    r = sorted(y / x for x, y in zip(a, b))
    q = statistics.quantiles(r, n=4) if len(r) > 1 else r * 3
    return dict(median=statistics.median(r), q1=q[0], q3=q[-1], min=r[0], max=r[-1])


class PlainStep:
    """One model stepped plainly on a fixed batch: logits, BCE + Dice, Adam 1e-3."""

    def __init__(self, name, model, x, y, tensor_mode=True, device='cpu'):
        import torch
        self.device = device
        self.name, self.model = name, model.to(device)
        self.x, self.y = x.to(device), y.to(device)
        self.tensor_mode = tensor_mode
        self.optim = torch.optim.Adam(model.parameters(), lr=1e-3)

    def time_train(self) -> float:
        from benchmarks.yardstick import bce_dice
        self.model.train()
        sync(self.device)
        start = time.perf_counter()
        out = self.model(self.x, mode='tensor') if self.tensor_mode else self.model(self.x)
        loss = bce_dice(out, self.y)
        self.optim.zero_grad(set_to_none=True)
        loss.backward()
        self.optim.step()
        sync(self.device)
        return time.perf_counter() - start


def run_step(args) -> dict:
    """Part 2: lszoo train_step vs lszoo plain step vs smp plain step, interleaved."""
    import torch

    from benchmarks.yardstick import import_smp
    from lszoo.benchmark.side_by_side import Contender, interleave
    from lszoo.config import load_config
    smp = import_smp()
    cfg = load_config(osp.join(REPO, CONFIG))
    cfg.merge_from_dict(dict(model=RESNET18))
    cfg.model.backbone.in_channels = 3
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    shape = (args.crop, args.crop)
    torch.manual_seed(0)
    lszoo = Contender('lszoo train_step', cfg, CONFIG, shape, 1, args.batch, args.device)
    prepared = lszoo.model.data_preprocessor(lszoo.data, True)
    x = prepared['inputs']
    y = torch.stack([s.gt_sem_seg.data[0] for s in prepared['data_samples']]).long()
    torch.manual_seed(0)
    from mmseg.registry import MODELS
    twin = MODELS.build(cfg.model)
    twin.init_weights()
    unet = smp.Unet('resnet18', encoder_weights=None, in_channels=3, classes=1)
    cs = [lszoo, PlainStep('lszoo plain step', twin, x, y, device=args.device),
          PlainStep('smp Unet plain step', unet, x, y, tensor_mode=False, device=args.device)]
    times = interleave(cs, ['time_train'], args.step_reps, warmup=2)['time_train']
    params = [sum(p.numel() for p in c.model.parameters()) for c in cs]
    out = {}
    for c, t, n in zip(cs, times, params):
        out[c.name] = dict(ms=[v * 1e3 for v in t], params=n,
                           vs_smp=ratios(times[2], t), vs_lszoo_train_step=ratios(times[0], t))
    return out


def med(seq) -> float:
    return statistics.median(seq) if seq else float('nan')


def report(result) -> str:
    lines = [f"{result['machine']}, torch {result['torch']}, {result['threads']} thread(s), "
             f"load average {result['load']} at start"]
    if 'loop' in result:
        lz, pl, r = result['loop']['lszoo'], result['loop']['plain'], result['loop']['ratio']
        lines += [f"whole iteration, batch {result['batch']}, {result['crop']}^2, "
                  f"{len(lz['total'])} alternating iterations (medians, ms):",
                  f"  lszoo runner  {med(lz['total']):8.1f}  (data {med(lz['data']):.1f}, "
                  f"train_step {med(lz['step']):.1f}, after-iter hooks {med(lz['hooks']):.1f})",
                  f"  plain loop    {med(pl['total']):8.1f}  (data {med(pl['data']):.1f}, "
                  f"step {med(pl['step']):.1f})",
                  f"  lszoo / plain: median {r['median']:.3f}, IQR {r['q1']:.3f}-{r['q3']:.3f}, "
                  f"range {r['min']:.3f}-{r['max']:.3f}"]
    if 'step' in result:
        lines.append(f"bare training step, batch {result['batch']}, {result['crop']}^2, "
                     f"fixed batch, interleaved (ms; ratio to smp: median, IQR, range):")
        for name, s in result['step'].items():
            v = s['vs_smp']
            lines.append(f"  {name:<22}{med(s['ms']):8.1f}  {v['median']:.3f}  "
                         f"{v['q1']:.3f}-{v['q3']:.3f}  {v['min']:.3f}-{v['max']:.3f}  "
                         f"({s['params'] / 1e6:.2f} M params)")
    return '\n'.join(lines)


def parse_args(argv=None):
    from mmengine.config import DictAction

    from benchmarks.real import DATASETS
    p = argparse.ArgumentParser(description='lszoo training iteration vs a plain loop and smp')
    p.add_argument('--data', default=DATASETS['bijie'], help='bijie_mini-layout folder')
    p.add_argument('--iters', type=int, default=40, help='timed iterations (default 40)')
    p.add_argument('--warmup', type=int, default=5, help='untimed first iterations')
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--crop', type=int, default=256)
    p.add_argument('--num-workers', type=int, default=0,
                   help='lszoo loader workers (default 0, as the plain loop)')
    p.add_argument('--step-reps', type=int, default=10)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--device', default='cpu', help="'cpu' or 'cuda' (mmengine's runner takes "
                   "the GPU whenever one is visible)")
    p.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                   help='merged into lszoo\'s config, e.g. model.decode_head.upsample_mode=nearest')
    p.add_argument('--skip-loop', action='store_true')
    p.add_argument('--skip-step', action='store_true')
    p.add_argument('--json')
    return p.parse_args(argv)


def run(args) -> int:
    import os

    import torch
    from mmseg.utils import register_all_modules

    from lszoo.benchmark.profile import cpu_name
    from lszoo.errors import ConfigError
    if min(args.iters, args.batch, args.crop, args.step_reps, args.threads) < 1 \
            or args.warmup < 0:
        raise ConfigError('--iters, --batch, --crop, --step-reps, --threads must be >= 1')
    register_all_modules(init_default_scope=True)
    torch.set_num_threads(args.threads)
    result = dict(machine=cpu_name(), torch=torch.__version__, threads=args.threads,
                  batch=args.batch, crop=args.crop, load=round(os.getloadavg()[0], 2),
                  argv=sys.argv[1:])
    if not args.skip_loop:
        result['loop'] = run_loop(args)
    if not args.skip_step:
        result['step'] = run_step(args)
    result['load_end'] = round(os.getloadavg()[0], 2)
    print(report(result) + f"\nload average at end {result['load_end']}", flush=True)
    if args.json:
        from lszoo.cli.tool import write_json
        write_json(args.json, result)
    return 0


def main(argv=None) -> int:
    from lszoo.cli.tool import run_tool
    return run_tool(run, parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
