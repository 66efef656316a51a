"""DiGATe-UNet speed beside its authors' implementation, as ratios measured in one run.

    git clone https://github.com/mishaown/DiGATe-UNet-LandSlide-Segmentation /path/to/ref
    pip install segmentation-models-pytorch        # the reference's loss needs it
    python -m benchmarks.digate_reference --reference /path/to/ref \\
        [--config configs/digate_unet/digate_unet_bijie.py] [--shape 256 256] \\
        [--eval-batches 1 8] [--train-batch 4] [--reps 5] [--threads 1] \\
        [--options default eager compile onnx scene] [--json FILE]

(from the repository root). Results: ``benchmarks/results/digate_reference.md``.

The reference (github.com/mishaown/DiGATe-UNet-LandSlide-Segmentation, ``models/DiGATe_Unet.py``
and its ``models/smp_loss.py``) is imported from the user's own clone; nothing of it is part of
lszoo. It is built as the paper runs it (two separate frozen ``tf_efficientnet_b4`` encoders, RGB
+ the DEM repeated to three channels). lszoo's model gets the same random weights through the
converter of ``tools/model_converters/digate2lszoo.py``; the outputs are compared before anything
is timed, then every contender is timed in one process, interleaved
(:func:`lszoo.benchmark.side_by_side.interleave`), so the ratios hold on a busy machine.

Builds the reference as the paper runs it (two frozen ``tf_efficientnet_b4`` encoders, random
weights: nothing downloads) and lszoo's model with the same weights, checks that their eval
logits and first training loss agree (printed), then times, interleaved in one process: the eval
forward at each ``--eval-batches`` size and a training step (forward, loss, backward, Adam) at
``--train-batch``. Options: ``default`` (lszoo as configured: the Bijie paper config compiles
its frozen encoders for training, ``compile_frozen='train'``), ``eager`` (no compiling,
``compile_frozen=False``), ``compile`` (the frozen encoders through ``torch.compile`` in training
and evaluation, ``model.backbone.compile_frozen=True``), ``onnx`` (lszoo's graph in
ONNX Runtime; inference only). The first calls (the agreement check) are timed apart: they
include compiling.
"""
import argparse
import copy
import importlib
import os.path as osp
import sys
import tempfile
import time

from lszoo.benchmark.side_by_side import Contender, interleave, ratio_stats, train_batch
from lszoo.errors import ConfigError

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
REFERENCE_URL = 'github.com/mishaown/DiGATe-UNet-LandSlide-Segmentation'
#: ``DiGATe_Unet(...)`` as the paper's Bijie run builds it (``pretrained=False``: no download).
PAPER_ARGS = dict(n_classes=1, backbone='tf_efficientnet_b4', n_channels=3, pretrained=False,
                  use_input_adapter=False, freeze_backbone=True, share_backbone=False)
STREAMS = ([0, 1, 2], [3, 3, 3])  # lszoo's view of the reference's (RGB, DEM x 3) inputs


def import_reference(ref_dir: str):
    """``(DiGATe_Unet, SegmentationLosses)`` from a clone of the reference repository."""
    if not osp.isfile(osp.join(ref_dir, 'models', 'DiGATe_Unet.py')):
        raise ConfigError(f'--reference {ref_dir}: no models/DiGATe_Unet.py there; clone '
                          f'{REFERENCE_URL} and pass its folder')
    sys.path.insert(0, osp.abspath(ref_dir))
    try:
        net = importlib.import_module('models.DiGATe_Unet').DiGATe_Unet
        loss = importlib.import_module('models.smp_loss').SegmentationLosses
    except ImportError as e:
        raise ConfigError(f'--reference {ref_dir}: cannot import the reference ({e}); its loss '
                          'needs segmentation_models_pytorch (pip install '
                          'segmentation-models-pytorch)') from e
    finally:
        sys.path.remove(osp.abspath(ref_dir))
    return net, loss


class ReferenceContender:
    """The authors' model with their training step (``train/train_reg.py``: binary Tversky
    alpha 0.3, beta 0.7 on the main and auxiliary outputs, weights 1, 0.6, 0.4, plus 1e-3 x the
    gate regularisers; Adam)."""

    name = 'reference'

    def __init__(self, model, loss_cls, lr: float, weight_decay: float):
        import torch
        self.model = model
        self.criterion = loss_cls(loss_name='tversky', mode='binary', alpha=0.3, beta=0.7)
        self.optim = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        self.x = self.inputs = self.target = None

    def forward(self, x):
        return self.model(x[:, 0:3], x[:, [3, 3, 3]])

    def logits(self, x):
        self.model.eval()
        return self.forward(x)[0]

    def loss(self):
        main, aux2, aux3, reg = self.forward(self.inputs)
        c = self.criterion
        return (c(main, self.target) + 0.6 * c(aux2, self.target) + 0.4 * c(aux3, self.target)
                + 1e-3 * sum(reg))

    def time_eval(self) -> float:
        import torch
        self.model.eval()
        start = time.perf_counter()
        with torch.no_grad():
            self.forward(self.x)
        return time.perf_counter() - start

    def time_train(self) -> float:
        self.model.train()
        start = time.perf_counter()
        loss = self.loss()
        self.optim.zero_grad(set_to_none=True)
        loss.backward()
        self.optim.step()
        return time.perf_counter() - start


class OnnxContender:
    """lszoo's eval logits graph (dynamic batch) in ONNX Runtime; inference only."""

    name = 'lszoo onnxruntime'

    def __init__(self, model, x, threads):
        import torch

        from lszoo.deploy.onnx_export import onnx_session, require_onnx
        require_onnx()

        class Logits(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, inp):
                return self.m(inp, mode='tensor')

        self.tmp = tempfile.TemporaryDirectory(prefix='lszoo_digate_onnx_')
        path = osp.join(self.tmp.name, 'digate.onnx')
        with torch.no_grad():
            torch.onnx.export(Logits(copy.deepcopy(model).eval()), (x,), path,
                              input_names=['x'], output_names=['logits'], opset_version=17,
                              dynamic_axes={'x': {0: 'n'}, 'logits': {0: 'n'}}, dynamo=False)
        self.session = onnx_session(path, threads)
        self.x = x

    def forward(self, x):
        import torch
        return torch.from_numpy(self.session.run(None, {'x': x.numpy()})[0])

    logits = forward

    def time_eval(self) -> float:
        start = time.perf_counter()
        self.forward(self.x)
        return time.perf_counter() - start


class SceneDefaultContender:
    """``tools/infer_scene.py``'s default forward on a CPU: the model of the config as it is (six
    bands, R G B and the DEM three times) exported once into the per-checkpoint ONNX cache
    (:mod:`lszoo.deploy.onnx_cache`: config normalisation, model, sigmoid; a fixed square tile,
    dynamic batch) and run by ONNX Runtime through the same
    :class:`~lszoo.deploy.onnx_predictor.OnnxTileModel`; inference only. It gets the
    reference's input as those six bands and gives probabilities, so its agreement is checked on
    probabilities: the reference's sigmoid on the normalised input."""

    name = 'lszoo infer_scene default'
    BANDS = [0, 1, 2, 3, 3, 3]  # the reference's (RGB, DEM) input as the config's six bands

    def __init__(self, cfg, state, shape, threads):
        import torch
        from mmseg.registry import MODELS

        from lszoo.deploy.normalization import build_input_normalization
        from lszoo.deploy.onnx_cache import cached_tile_model
        if shape[0] != shape[1]:
            raise ConfigError(f'--shape {shape[0]} {shape[1]}: the scene path maps square tiles')
        cfg = copy.deepcopy(cfg)
        cfg.model.backbone.pretrained = False
        model = MODELS.build(cfg.model).eval()
        model.load_state_dict(state, strict=True)
        self.tmp = tempfile.TemporaryDirectory(prefix='lszoo_digate_scene_')
        ckpt = osp.join(self.tmp.name, 'digate.pth')
        torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
        start = time.perf_counter()
        self.tile_model = cached_tile_model(model, cfg, ckpt, shape[0], threads=threads)
        self.export_s = time.perf_counter() - start
        self.normalization = build_input_normalization(
            cfg, data_preprocessor=model.data_preprocessor)
        self._x = None

    @property
    def x(self):
        return self._x

    @x.setter
    def x(self, value):  # the bands made once, outside the timed call
        self._x = None if value is None else value[:, self.BANDS].contiguous()

    def agreement(self, ref, x) -> float:
        """Max |probability - the reference's sigmoid on the normalised ``x``|."""
        import torch
        x6 = x[:, self.BANDS].contiguous()
        with torch.no_grad():
            want = ref.logits(self.normalization(x6)[:, :4]).sigmoid()[:, 0]
        return float((self.tile_model(x6) - want).abs().max())

    def time_eval(self) -> float:
        start = time.perf_counter()
        self.tile_model(self.x)
        return time.perf_counter() - start


def lszoo_contender(name, cfg, config_path, state, shape, train_batch_size, **backbone):
    """lszoo's model from ``cfg`` with ``backbone`` overrides, loaded with ``state``."""
    cfg = copy.deepcopy(cfg)
    cfg.model.backbone.update(stream_channels=STREAMS, pretrained=False, **backbone)
    c = Contender(name, cfg, config_path, shape, 1, train_batch_size, 'cpu')
    c.model.load_state_dict(state, strict=True)
    return c


def build_contenders(ref_dir, cfg, config_path, shape, train_batch_size, threads,
                     options=('default', 'eager', 'compile', 'onnx', 'scene')):
    """The reference and lszoo's variants, all with the reference's random weights."""
    import torch

    from lszoo.models.converters.digate import convert_digate
    net, loss_cls = import_reference(ref_dir)
    torch.manual_seed(0)
    ref_model = net(**PAPER_ARGS)
    state = convert_digate(ref_model.state_dict(), 'reference')
    opt = (cfg.get('optim_wrapper') or {}).get('optimizer', {})
    ref = ReferenceContender(ref_model, loss_cls, opt.get('lr', 3e-4),
                             opt.get('weight_decay', 0.0))
    out = [ref]
    x = torch.rand(1, 4, *shape)
    eager = lszoo_contender('lszoo eager', cfg, config_path, state, shape, train_batch_size,
                            compile_frozen=False)
    if 'default' in options:  # the config as it stands (the Bijie paper config: 'train')
        out.append(lszoo_contender('lszoo default', cfg, config_path, state, shape,
                                   train_batch_size))
    if 'eager' in options:
        out.append(eager)
    if 'compile' in options:
        out.append(lszoo_contender('lszoo compile_frozen', cfg, config_path, state, shape,
                                   train_batch_size, compile_frozen=True))
    if 'onnx' in options:
        out.append(OnnxContender(eager.model, x, threads))
    if 'scene' in options:
        out.append(SceneDefaultContender(cfg, state, shape, threads))
    # one training batch for everyone; the reference gets it through lszoo's data preprocessor
    batch = train_batch(4, *shape, train_batch_size)
    data = eager.model.data_preprocessor(batch, True)
    ref.inputs = data['inputs']
    ref.target = torch.stack([s.gt_sem_seg.data for s in data['data_samples']]).float()
    for c in out[1:]:
        if hasattr(c, 'data'):
            c.data = batch
    set_eval_input(out, x)
    return out


def set_eval_input(contenders, x) -> None:
    for c in contenders:
        c.x = x


def check_agreement(contenders, x) -> dict:
    """Max |difference| of each contender's eval logits from the reference's, and of lszoo's
    first training loss from the reference's (same weights, same batch; run before timing).
    These are everyone's first calls: their times (``first_call_s``) include compiling."""
    import torch
    ref = contenders[0]
    first = {c.name: {} for c in contenders}

    def timed(name, measure, fn):
        start = time.perf_counter()
        out = fn()
        first[name][measure] = time.perf_counter() - start
        return out

    with torch.no_grad():
        want = timed(ref.name, 'eval', lambda: ref.logits(x))
        diffs = {}
        for c in contenders[1:]:
            if hasattr(c, 'agreement'):  # probabilities out: compared as probabilities
                diffs[c.name + ' (probability)'] = timed(c.name, 'eval',
                                                         lambda: c.agreement(ref, x))
                continue
            got = timed(c.name, 'eval', lambda: c.logits(x))
            diffs[c.name] = float((got - want).abs().max())
    ref.model.train()
    ref_loss = float(timed(ref.name, 'train loss', ref.loss).detach())
    for c in contenders[1:]:
        if hasattr(c, 'data'):
            c.model.train()
            losses = timed(c.name, 'train loss', lambda: c.model(
                **c.model.data_preprocessor(c.data, True), mode='loss'))
            total = sum(v for k, v in losses.items() if 'loss' in k)
            diffs[c.name + ' (train loss)'] = abs(float(total.detach()) - ref_loss)
    return dict(max_abs_diff=diffs, reference_train_loss=ref_loss, first_call_s=first)


def first_calls(contenders, measures) -> dict:
    """Time one untimed-by-the-comparison call of each measure (a warm-up; at a new batch size
    this is where a compiled model compiles again)."""
    return {c.name: {m: getattr(c, m)() for m in measures if hasattr(c, m)} for c in contenders}


def compare(contenders, measures, reps: int, n_images: dict) -> dict:
    """Interleave the contenders that have every measure; ratios against the reference and
    against lszoo eager."""
    rows = {}
    for m in measures:
        group = [c for c in contenders if hasattr(c, m)]
        times = interleave(group, [m], reps, warmup=0)[m]
        names = [c.name for c in group]
        for name, t in zip(names, times):
            row = dict(vs_reference=ratio_stats(times[0], t, n_images[m]))
            if 'lszoo eager' in names:
                row['vs_eager'] = ratio_stats(times[names.index('lszoo eager')], t, n_images[m])
            rows.setdefault(m, {})[name] = row
    return rows


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='DiGATe-UNet vs the authors\' code (lszoo)')
    p.add_argument('--reference', required=True, help='folder of a clone of '
                   'github.com/mishaown/DiGATe-UNet-LandSlide-Segmentation')
    p.add_argument('--config', default=osp.join(REPO, 'configs', 'digate_unet',
                                                'digate_unet_bijie.py'))
    p.add_argument('--shape', type=int, nargs=2, default=(256, 256), metavar=('H', 'W'))
    p.add_argument('--eval-batches', type=int, nargs='+', default=[1, 8])
    p.add_argument('--train-batch', type=int, default=4)
    p.add_argument('--reps', type=int, default=5, help='interleaved repetitions (default 5)')
    p.add_argument('--threads', type=int, default=1, help='torch / onnxruntime threads')
    p.add_argument('--options', nargs='+', default=['default', 'eager', 'compile', 'onnx', 'scene'],
                   choices=['default', 'eager', 'compile', 'onnx', 'scene'])
    p.add_argument('--json', help='also write the results to this JSON file')
    return p.parse_args(argv)


def format_rows(label, rows) -> str:
    lines = [f'{label}:', f"  {'contender':<22}{'median':>11}{'vs reference':>14}"
             f"{'IQR':>15}{'vs eager':>10}"]
    for name, r in rows.items():
        v = r['vs_reference']
        e = r.get('vs_eager', {}).get('ratio_median')
        lines.append(f"  {name:<22}{v['b_ms_median']:>9.1f}ms{v['ratio_median']:>14.3f}"
                     f"{v['ratio_q1']:>8.3f}-{v['ratio_q3']:.3f}"
                     f"{'' if e is None else format(e, '.3f'):>10}")
    return '\n'.join(lines)


def run(args) -> int:
    import torch

    from lszoo.benchmark.profile import cpu_name
    from lszoo.cli.tool import write_json
    from lszoo.config import load_config
    from lszoo.errors import ConfigError
    if min(args.eval_batches + [args.train_batch, args.reps, args.threads]) < 1:
        raise ConfigError('--eval-batches, --train-batch, --reps and --threads must be >= 1')
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    torch.set_num_threads(args.threads)
    cfg = load_config(args.config)
    shape = tuple(args.shape)
    cs = build_contenders(args.reference, cfg, args.config, shape, args.train_batch,
                             args.threads, args.options)
    result = dict(machine=cpu_name(), torch=torch.__version__, threads=args.threads,
                  shape=list(shape), reps=args.reps, agreement=check_agreement(cs, cs[0].x))
    print(f'{result["machine"]}, torch {torch.__version__}, {args.threads} thread(s), '
          f'{args.reps} interleaved repetitions')
    for name, d in result['agreement']['max_abs_diff'].items():
        print(f'  max |lszoo - reference| {name}: {d:.2e}')
    for c in cs:
        if hasattr(c, 'export_s'):
            result['scene_export_s'] = c.export_s
            print(f'  {c.name}: graph {c.tile_model.path} exported and checked in '
                  f'{c.export_s:.1f} s (once per checkpoint and tile size)')
    print('  first calls, eval batch 1 / training loss (s; compiling happens here): ' + ', '.join(
        f'{n} ' + '/'.join(f'{t:.1f}' for t in f.values())
        for n, f in result['agreement']['first_call_s'].items()))
    for i, b in enumerate(args.eval_batches):
        set_eval_input(cs, torch.rand(b, 4, *shape))
        measures = ['time_eval'] + (['time_train'] if i == 0 else [])
        first = first_calls(cs, measures)
        rows = compare(cs, measures, args.reps,
                          dict(time_eval=b, time_train=args.train_batch))
        result[f'eval_batch_{b}'] = dict(warmup_s=first, rows=rows['time_eval'])
        print(format_rows(f'eval forward, batch {b}, {shape[0]}x{shape[1]}', rows['time_eval']))
        if i == 0:
            result['train'] = dict(warmup_s=first, rows=rows['time_train'])
            print(format_rows(f'training step, batch {args.train_batch}', rows['time_train']))
        print('  warm-up calls (s): ' + ', '.join(
            f'{n} ' + '/'.join(f'{t:.1f}' for t in f.values()) for n, f in first.items()))
    if args.json:
        write_json(args.json, result)
    return 0


def main(argv=None) -> int:
    from lszoo.cli.tool import run_tool
    return run_tool(run, parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
