"""Side-by-side timing of two models (or model options) in one process (``tools/analysis_tools/
benchmark.py --vs``): the runs alternate (A B, B A, ...) so drift and cache effects hit both
alike, and the result is one B/A ratio per repetition.
"""
import statistics
import time

from .profile import cpu_name, default_shape, input_channels


def train_batch(channels: int, h: int, w: int, batch: int, seed: int = 0) -> dict:
    """A synthetic training batch in the form data loaders give ``model.train_step``: float
    images and binary masks (labels 0/1), with the meta fields the decode heads read."""
    import torch
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(batch):
        inputs.append(torch.rand(channels, h, w, generator=g) * 255)
        s = SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
        s.gt_sem_seg = PixelData(data=(torch.rand(1, h, w, generator=g) > 0.7).long())
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


class Contender:
    """One side of a side-by-side run: a model built from a config, with its settings.

    ``amp`` runs the eval forward under autocast (bf16 on the CPU, fp16 on CUDA) and trains
    through :func:`lszoo.engine.amp.amp_optim_wrapper`; ``channels_last`` converts the model
    and inputs; a config with ``compile = True`` (mmengine's key) compiles the forward and
    ``train_step`` as mmengine's runner does.
    """

    def __init__(self, name, cfg, config_path, shape, batch, train_batch_size, device,
                 amp=False, channels_last=False):
        import torch
        from mmengine.optim import build_optim_wrapper
        from mmseg.registry import MODELS

        from lszoo.engine.amp import amp_optim_wrapper
        self.name, self.device, self.amp = name, device, amp
        h, w = shape or default_shape(cfg)
        channels = input_channels(cfg, config_path)
        self.model = MODELS.build(cfg.model).to(device)
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        self.model = self.model.to(memory_format=fmt)
        self.x = torch.randn(batch, channels, h, w, device=device).to(memory_format=fmt)
        self.data = train_batch(channels, h, w, train_batch_size)
        wrapper = dict(cfg.get('optim_wrapper') or dict(optimizer=dict(type='SGD', lr=1e-3)))
        if amp:
            wrapper = amp_optim_wrapper(wrapper, device == 'cuda')
        self.optim = build_optim_wrapper(self.model, wrapper)
        self.forward = self.model
        self.train_step = self.model.train_step
        compile_cfg = cfg.get('compile', False)
        if compile_cfg:
            kwargs = compile_cfg if isinstance(compile_cfg, dict) else {}
            self.forward = torch.compile(self.model, **kwargs)
            self.train_step = torch.compile(self.model.train_step, **kwargs)
        self.settings = dict(config=config_path, input=[batch, channels, h, w],
                             train_batch=train_batch_size, amp=amp,
                             channels_last=channels_last, compile=bool(compile_cfg))

    def logits(self, x):
        """Eval-mode logits of ``x`` (no grad), as ``time_eval`` computes them."""
        import torch
        self.model.eval()
        with torch.no_grad():
            return self.forward(x, mode='tensor')

    def _sync(self):
        import torch
        if self.device == 'cuda':
            torch.cuda.synchronize()

    def time_eval(self) -> float:
        import torch

        from lszoo.engine.amp import amp_dtype
        self.model.eval()
        self._sync()
        start = time.perf_counter()
        with torch.no_grad(), torch.autocast(self.device, dtype=amp_dtype(self.device),
                                             enabled=self.amp):
            self.forward(self.x, mode='tensor')
        self._sync()
        return time.perf_counter() - start

    def time_train(self) -> float:
        self.model.train()
        self._sync()
        start = time.perf_counter()
        losses = self.train_step(self.data, self.optim)
        self._sync()
        elapsed = time.perf_counter() - start
        bad = [k for k, v in losses.items() if not bool(v.isfinite().all())]
        if bad:
            raise RuntimeError(f'{self.name}: non-finite training loss {bad}')
        return elapsed


def interleave(contenders, measures, reps: int = 10, warmup: int = 2) -> dict:
    """Time every contender on every measure (a method name, e.g. ``'time_eval'``) in turn, in
    one process: repetition ``r`` runs them in an order rotated by ``r`` (with two: A B, B A,
    A B, ...), so drift and cache effects hit all alike.
    Returns ``{measure: [[seconds per repetition] per contender]}``."""
    for _ in range(warmup):
        for c in contenders:
            for m in measures:
                getattr(c, m)()
    times = {m: [[] for _ in contenders] for m in measures}
    n = len(contenders)
    for rep in range(reps):
        order = [(rep + i) % n for i in range(n)]
        for m in measures:
            for i in order:
                times[m][i].append(getattr(contenders[i], m)())
    return times


def ratio_stats(ta, tb, n_images: int) -> dict:
    """Medians of two time series taken in the same repetitions and the median, quartiles and
    range of their per-repetition ratios B/A (< 1: B is faster)."""
    ratios = sorted(y / x for x, y in zip(ta, tb))
    q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    return dict(a_img_s=n_images / statistics.median(ta), b_img_s=n_images / statistics.median(tb),
                a_ms_median=statistics.median(ta) * 1e3, b_ms_median=statistics.median(tb) * 1e3,
                ratio_median=statistics.median(ratios), ratio_min=ratios[0],
                ratio_max=ratios[-1], ratio_q1=q[0], ratio_q3=q[-1],
                a_ms=[t * 1e3 for t in ta], b_ms=[t * 1e3 for t in tb])


def side_by_side(a: Contender, b: Contender, reps: int = 10, warmup: int = 2,
                 train: bool = True) -> dict:
    """Time ``a`` and ``b`` alternately in one process (:func:`interleave`: A B, B A, ...):
    one ratio B/A per repetition and measure. Returns medians, ratio medians and ranges."""
    import torch
    measures = ['eval'] + (['train'] if train else [])
    times = interleave([a, b], [f'time_{m}' for m in measures], reps, warmup)
    result = dict(a=a.settings, b=b.settings, reps=reps, warmup=warmup,
                  device=a.device, device_name=(torch.cuda.get_device_name()
                                                if a.device == 'cuda' else cpu_name()),
                  torch_threads=torch.get_num_threads(), torch_version=torch.__version__)
    for m in measures:
        ta, tb = times[f'time_{m}']
        n = a.settings['input'][0] if m == 'eval' else a.settings['train_batch']
        result[m] = ratio_stats(ta, tb, n)
    return result


def format_side_by_side(r: dict) -> str:
    def describe(s):
        extras = [k for k in ('amp', 'channels_last', 'compile') if s[k]]
        extras += [f'{k}={v}' for k, v in (s.get('overrides') or {}).items()]
        return (f"{s['config']} [{' x '.join(map(str, s['input']))}, train batch "
                f"{s['train_batch']}{', ' + ', '.join(extras) if extras else ''}]")
    lines = [f"A: {describe(r['a'])}", f"B: {describe(r['b'])}",
             f"{r['device']}: {r['device_name']}, {r['torch_threads']} torch threads, "
             f"{r['reps']} interleaved repetitions after {r['warmup']} warm-up",
             f"{'measure':<14}{'A median':>12}{'B median':>12}{'B/A median':>12}"
             f"{'B/A IQR':>16}{'B/A min-max':>16}"]
    for m, label in (('eval', 'eval forward'), ('train', 'train step')):
        if m in r:
            s = r[m]
            lines.append(f"{label:<14}{s['a_ms_median']:>10.1f}ms{s['b_ms_median']:>10.1f}ms"
                         f"{s['ratio_median']:>12.3f}{s['ratio_q1']:>8.3f}-{s['ratio_q3']:.3f}"
                         f"{s['ratio_min']:>8.3f}-{s['ratio_max']:.3f}"
                         f"   ({s['a_img_s']:.2f} vs {s['b_img_s']:.2f} images/s)")
    return '\n'.join(lines)
