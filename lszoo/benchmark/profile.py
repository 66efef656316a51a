"""Size and speed of a config's model (``tools/analysis_tools/benchmark.py``,
``tools/analysis_tools/compare.py``): parameters, FLOPs, latency, throughput, peak memory.

What is measured and how: see ``tools/analysis_tools/benchmark.py``'s docstring.
"""
import os
import resource
import statistics
import sys
import time

from lszoo.config.checks import data_channels, model_input_channels
from lszoo.errors import ConfigError


def input_channels(cfg, config_path: str) -> int:
    """The channel count the model reads: the backbone's, else the data's, else the config's."""
    found = model_input_channels(cfg)
    if found is None:
        for loader in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
            found = data_channels(cfg, loader)
            if found is not None:
                break
    if found is None and isinstance(cfg.get('in_channels'), int):
        return cfg.in_channels
    if found is None:
        raise ConfigError(f'config {config_path}: cannot tell the input channel count (no '
                          'model.backbone.in_channels, no dataset bands, no in_channels)')
    return found[0]


def default_shape(cfg):
    crop = cfg.get('crop_size')
    if isinstance(crop, (list, tuple)) and len(crop) == 2:
        return int(crop[0]), int(crop[1])
    return 256, 256


def count_flops(model, x) -> int:
    """FLOPs of one forward pass (FlopCounterMode: 2 per multiply-add)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(x, mode='tensor')
    return int(counter.get_total_flops())


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == 'darwin' else peak * 1024


def benchmark(cfg, config_path: str, shape=None, batch: int = 1, device: str = 'cpu',
              warmup: int = 3, runs: int = 10) -> dict:
    """Build ``cfg.model`` and measure it; returns the result dict that the tool prints."""
    import torch
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    if device == 'cuda' and not torch.cuda.is_available():
        raise ConfigError('--device cuda: CUDA is not available on this machine')
    h, w = shape or default_shape(cfg)
    channels = input_channels(cfg, config_path)
    model = MODELS.build(cfg.model).to(device).eval()  # random weights: enough to time it
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    x = torch.randn(batch, channels, h, w, device=device)

    rss_before = peak_rss_bytes()
    flops = count_flops(model, x)

    def sync():
        if device == 'cuda':
            torch.cuda.synchronize()

    with torch.no_grad():
        for _ in range(warmup):
            model(x, mode='tensor')
        sync()
        if device == 'cuda':
            torch.cuda.reset_peak_memory_stats()
        times = []
        for _ in range(runs):
            sync()
            start = time.perf_counter()
            model(x, mode='tensor')
            sync()
            times.append(time.perf_counter() - start)
    if device == 'cuda':
        peak, peak_kind = torch.cuda.max_memory_allocated(), 'cuda_max_allocated'
    else:
        peak, peak_kind = peak_rss_bytes() - rss_before, 'cpu_peak_rss_increase'
    median = statistics.median(times)
    return dict(
        config=config_path, model=cfg.model.get('type'),
        backbone=(cfg.model.get('backbone') or {}).get('type'),
        input_shape=[batch, channels, h, w], device=device,
        device_name=(torch.cuda.get_device_name() if device == 'cuda' else cpu_name()),
        torch_threads=torch.get_num_threads(), params_total=total, params_trainable=trainable,
        flops=flops, gflops=flops / 1e9, gmacs=flops / 2e9, warmup=warmup, runs=runs,
        latency_ms_median=median * 1e3, latency_ms_min=min(times) * 1e3,
        throughput_img_s=batch / median, peak_memory_bytes=int(peak),
        peak_memory_kind=peak_kind, torch_version=torch.__version__)


def cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip() + f' ({os.cpu_count()} logical cores)'
    except OSError:
        pass
    import platform
    return platform.processor() or platform.machine()


def format_table(r: dict) -> str:
    rows = [
        ('config', r['config']),
        ('model', f"{r['model']} / {r['backbone']}"),
        ('input (N, C, H, W)', ' x '.join(str(v) for v in r['input_shape'])),
        ('device', f"{r['device']}: {r['device_name']}, {r['torch_threads']} torch threads"),
        ('params total', f"{r['params_total']:,} ({r['params_total'] / 1e6:.3f} M)"),
        ('params trainable', f"{r['params_trainable']:,} ({r['params_trainable'] / 1e6:.3f} M)"),
        ('FLOPs / forward', f"{r['gflops']:.3f} G ({r['gmacs']:.3f} GMACs)"),
        ('latency median', f"{r['latency_ms_median']:.2f} ms (min {r['latency_ms_min']:.2f}, "
                           f"{r['runs']} runs after {r['warmup']} warm-up)"),
        ('throughput', f"{r['throughput_img_s']:.2f} images/s"),
        ('peak memory', f"{r['peak_memory_bytes'] / 2**20:.1f} MiB ({r['peak_memory_kind']})"),
    ]
    width = max(len(k) for k, _ in rows)
    return '\n'.join(f'{k:<{width}} : {v}' for k, v in rows)
