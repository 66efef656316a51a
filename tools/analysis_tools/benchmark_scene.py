"""Benchmark whole-scene inference: peak memory against scene size, and IO/blending overhead;
or, side by side, scene throughput with and without reading ahead.

    python tools/analysis_tools/benchmark_scene.py [--sizes 4096 16384] [--tile 512 --overlap 64]
        [--batch 4] [--window 2048] [--threads N] [--workdir DIR] [--keep] [--no-prob] [--polygons]
    python tools/analysis_tools/benchmark_scene.py --compare-prefetch 0 1 --sizes 2048 --reps 4
        [--width 16] [--device cuda]

For each size a synthetic 3-band uint8 GeoTIFF (tiled, deflate, UTM) is written window by window,
then mapped by :func:`lszoo.apis.map_scene` in a fresh process with a tiny
random-weight U-Net (mmseg ``UNet``, 4 base channels, 3 stages) whose config normalises with the
lszoo ``NormalizeBands`` transform, as a real config would. Each run prints its peak RSS
(``ru_maxrss`` of that process), the time spent in the model's forward passes, the wall time of the
whole mapping (reading, normalising, blending, writing the mask and the probabilities), the
share of the mapping outside the model (:meth:`~lszoo.apis.scene.SceneResult.outside_model_share`:
model setup, vectorising and extras left out) and, with ``--polygons``, the time spent
vectorising the inventory apart (it grows with the number of landslides, not with IO; a
random model maps speckle, hundreds of thousands of polygons on 16384², far from a real map).
The forward passes run in ``--backend`` (default ``auto``, as ``tools/infer_scene.py``: ONNX
Runtime on CPU, its graph exported once into the cache beside the random model's checkpoint in
the work folder; the export is part of "model setup").
Model building and imports are excluded from the wall time. The ratio of the peak RSS of the
largest to the smallest scene is printed last. The random model's threshold is set so that about
3 % of a central tile is landslide (L4S: about 2 %) rather than half the scene.

``--compare-prefetch A B`` maps each scene with ``prefetch=A`` and ``prefetch=B``
(:mod:`lszoo.apis.scene.prefetch`) alternately in one process (one model, order swapped every
repetition, one warm-up run first), and prints megapixels/s of both sides and their ratio per
repetition, then the median ratio: a speed claim measured side by side, not two absolute times
from a busy machine.
"""
import argparse
import json
import os
import os.path as osp
import platform
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np


def bench_config(base_channels=4, num_stages=3):
    """A tiny fully-convolutional U-Net config on R, G, B (uint8 scaled to 0..1 per tile)."""
    ns = num_stages
    return dict(
        default_scope='mmseg',
        bands=['R', 'G', 'B'], in_channels=3,
        test_pipeline=[dict(type='NormalizeBands', mode='scale', scale=255.0),
                       dict(type='PackSegInputs')],
        model=dict(
            type='EncoderDecoder',
            data_preprocessor=dict(type='SegDataPreProcessor', mean=None, std=None,
                                   bgr_to_rgb=False, size_divisor=16),
            backbone=dict(type='UNet', in_channels=3, base_channels=base_channels,
                          num_stages=ns, strides=(1, ) * ns, enc_num_convs=(1, ) * ns,
                          dec_num_convs=(1, ) * (ns - 1), downsamples=(True, ) * (ns - 1),
                          enc_dilations=(1, ) * ns, dec_dilations=(1, ) * (ns - 1),
                          norm_cfg=dict(type='BN'), upsample_cfg=dict(type='InterpConv')),
            decode_head=dict(type='FCNHead', in_channels=base_channels, in_index=ns - 1,
                             channels=base_channels, num_convs=1, concat_input=False,
                             num_classes=2, out_channels=1, threshold=0.5,
                             loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=True)),
            test_cfg=dict(mode='whole')))


def write_synthetic_scene(path, size, seed=0, block=1024):
    """A ``size`` x ``size`` 3-band uint8 GeoTIFF of smooth random texture, written by blocks."""
    import cv2
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    rng = np.random.default_rng(seed)
    profile = dict(driver='GTiff', width=size, height=size, count=3, dtype='uint8',
                   crs='EPSG:32633', transform=from_origin(500000, 4300000, 10, 10),
                   tiled=True, blockxsize=256, blockysize=256, compress='deflate',
                   BIGTIFF='IF_SAFER')
    with rasterio.Env(GDAL_CACHEMAX=64), rasterio.open(path, 'w', **profile) as dst:
        for y in range(0, size, block):
            for x in range(0, size, block):
                h, w = min(block, size - y), min(block, size - x)
                low = rng.random((h // 32 + 2, w // 32 + 2, 3)).astype(np.float32)
                img = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)
                img += 0.05 * rng.standard_normal((h, w, 3), dtype=np.float32)
                data = np.clip(img * 255, 0, 255).astype(np.uint8).transpose(2, 0, 1)
                dst.write(data, window=Window(x, y, w, h))


def calibrate_threshold(model, path, tile, fraction=0.03):
    """The probability above which ``fraction`` of a central tile's pixels lie, so that the random
    model maps about 3 % of the scene as landslide (L4S: about 2 %) instead of half of it."""
    import rasterio
    import torch
    from rasterio.windows import Window

    from lszoo.apis.scene.predictor import predict_tiles

    with rasterio.open(path) as src:
        y, x = max(0, src.height // 2 - tile // 2), max(0, src.width // 2 - tile // 2)
        img = src.read(window=Window(x, y, tile, tile)).astype(np.float32) / 255.0
    device = next(model.parameters()).device
    prob = predict_tiles(model, torch.from_numpy(img[None]).to(device))[0].cpu().numpy()
    return float(np.quantile(prob, 1.0 - fraction))


def bench_model(width: int, folder: str):
    """The random-weight model of ``bench_config(width)`` and its checkpoint in ``folder``
    (written once): scene mapping keys its ONNX graph cache by the checkpoint."""
    import torch

    from lszoo.apis import init_scene_model
    torch.manual_seed(0)
    model, cfg = init_scene_model(bench_config(width))
    ckpt = osp.join(folder, f'bench_unet_w{width}.pth')
    if not osp.exists(ckpt):
        from lszoo.utils.fileio import atomic_path
        with atomic_path(ckpt) as tmp:
            torch.save({'state_dict': model.state_dict(), 'meta': {}}, tmp)
    return model, cfg, ckpt


def run_one(args):
    """Child process: build the model, map one scene, print a JSON line with the figures."""
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from lszoo.apis import map_scene

    model, cfg, ckpt = bench_model(args.width, osp.dirname(args.output))
    threshold = calibrate_threshold(model, args.input, args.tile)
    t0 = time.perf_counter()
    res = map_scene(model, args.input, args.output, ckpt, cfg=cfg, prob=args.prob,
                    polygons=args.polygons_out, tile=args.tile, overlap=args.overlap,
                    batch=args.batch, window=args.window, threshold=threshold,
                    progress=False, backend=args.backend, prefetch=args.prefetch)
    wall = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(dict(size=res.height, tiles=res.n_tiles, wall_s=wall,
                          model_s=res.times['model'], times=res.times,
                          outside_model=res.outside_model_share(), backend=res.backend,
                          polygons=res.n_polygons, peak_rss_mb=rss_mb,
                          threads=torch.get_num_threads())))
    return 0


def compare_prefetch(args, scene, work) -> dict:
    """Map ``scene`` alternately with the two ``--compare-prefetch`` settings in this process;
    prints and returns megapixels/s of both and the ratios B / A."""
    import statistics

    import torch

    from lszoo.apis import map_scene

    if args.threads:
        torch.set_num_threads(args.threads)
    model, cfg, ckpt = bench_model(args.width, work)
    model = model.to(args.device)
    threshold = calibrate_threshold(model, scene, args.tile)
    a, b = args.compare_prefetch

    def mpx_per_s(depth):
        out = osp.join(work, f'ab_mask_{depth}.tif')
        prob = None if args.no_prob else osp.join(work, f'ab_prob_{depth}.tif')
        t0 = time.perf_counter()
        res = map_scene(model, scene, out, ckpt, cfg=cfg, prob=prob, tile=args.tile,
                        overlap=args.overlap, batch=args.batch, window=args.window,
                        device=args.device, threshold=threshold, progress=False,
                        prefetch=depth, backend=args.backend)
        return res.height * res.width / 1e6 / (time.perf_counter() - t0), res.times, res.backend

    print(f'  {mpx_per_s(a)[2]}', flush=True)  # warm-up: allocations, caches, ONNX export
    rows = []
    for rep in range(args.reps):
        speed, times = {}, {}
        for depth in ((a, b) if rep % 2 == 0 else (b, a)):
            speed[depth], times[depth], _ = mpx_per_s(depth)
        rows.append((speed[a], speed[b], times[a]['wait'], times[b]['wait']))
        # wait: time the model loop waited for its input (reading + normalising not hidden)
        print(f'  rep {rep + 1}: prefetch {a}: {speed[a]:.3f} Mpx/s, prefetch {b}: '
              f'{speed[b]:.3f} Mpx/s, ratio {b}/{a}: {speed[b] / speed[a]:.3f} (model '
              f'{times[a]["model"]:.1f} / {times[b]["model"]:.1f} s, waiting for input '
              f'{times[a]["wait"]:.1f} / {times[b]["wait"]:.1f} s, blend + write '
              f'{times[a]["blend"] + times[a]["write"]:.1f} / '
              f'{times[b]["blend"] + times[b]["write"]:.1f} s)', flush=True)
    ratios = [r[1] / r[0] for r in rows]
    summary = dict(a=a, b=b, mpx_s_a=statistics.median(r[0] for r in rows),
                   mpx_s_b=statistics.median(r[1] for r in rows),
                   ratio_median=statistics.median(ratios), ratio_min=min(ratios),
                   ratio_max=max(ratios), wait_s_a=statistics.median(r[2] for r in rows),
                   wait_s_b=statistics.median(r[3] for r in rows))
    print(f'  median: prefetch {a}: {summary["mpx_s_a"]:.3f} Mpx/s, prefetch {b}: '
          f'{summary["mpx_s_b"]:.3f} Mpx/s; throughput ratio {b}/{a}: median '
          f'{summary["ratio_median"]:.3f} (min {summary["ratio_min"]:.3f}, max '
          f'{summary["ratio_max"]:.3f}, {args.reps} interleaved repetitions); waiting for '
          f'input {summary["wait_s_a"]:.2f} / {summary["wait_s_b"]:.2f} s', flush=True)
    return summary


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--sizes', type=int, nargs='+', default=[4096, 16384])
    p.add_argument('--tile', type=int, default=512)
    p.add_argument('--overlap', type=int, default=64)
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--window', type=int, default=2048)
    p.add_argument('--threads', type=int, help='torch threads (default: torch default)')
    p.add_argument('--workdir', help='where the scenes go (default: a temporary folder)')
    p.add_argument('--keep', action='store_true', help='keep the scenes and outputs')
    p.add_argument('--no-prob', action='store_true', help='no probability GeoTIFF')
    p.add_argument('--polygons', action='store_true',
                   help='also write the polygon inventory (vectorising time printed apart)')
    p.add_argument('--compare-prefetch', type=int, nargs=2, metavar=('A', 'B'),
                   help='side by side: megapixels/s with prefetch A and prefetch B, interleaved '
                   'in one process, and their ratio')
    p.add_argument('--reps', type=int, default=4, help='--compare-prefetch repetitions')
    p.add_argument('--width', type=int, default=4, help='base channels of the U-Net')
    p.add_argument('--device', default='cpu', help='--compare-prefetch: torch device')
    p.add_argument('--backend', default='auto', choices=['auto', 'torch', 'onnx'],
                   help="forward passes in PyTorch or ONNX Runtime (default 'auto', as "
                   'tools/infer_scene.py)')
    p.add_argument('--prefetch', type=int, help='batches read ahead (default: map_scene\'s)')
    # child mode
    p.add_argument('--run-one', action='store_true', help=argparse.SUPPRESS)
    p.add_argument('--input', help=argparse.SUPPRESS)
    p.add_argument('--output', help=argparse.SUPPRESS)
    p.add_argument('--prob', help=argparse.SUPPRESS)
    p.add_argument('--polygons-out', help=argparse.SUPPRESS)
    return p.parse_args(argv)


def processor_name() -> str:
    """The CPU model (``/proc/cpuinfo``), else the platform's processor string."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run(args) -> int:
    if args.run_one:
        return run_one(args)

    work = args.workdir or tempfile.mkdtemp(prefix='lszoo_scene_bench_')
    os.makedirs(work, exist_ok=True)
    gpu = ''
    if args.device.startswith('cuda'):
        import torch
        gpu = f', GPU {torch.cuda.get_device_name(args.device)}'
    print(f'machine: {processor_name()}, {os.cpu_count()} CPUs{gpu}, '
          f'python {platform.python_version()}; tile {args.tile}, overlap {args.overlap}, '
          f'batch {args.batch}, window {args.window}, U-Net width {args.width}', flush=True)
    results = []
    for size in args.sizes:
        scene = osp.join(work, f'scene_{size}.tif')
        if not osp.exists(scene):
            t0 = time.perf_counter()
            write_synthetic_scene(scene, size)
            print(f'wrote {scene} ({osp.getsize(scene) / 2**20:.0f} MiB) in '
                  f'{time.perf_counter() - t0:.0f} s', flush=True)
        if args.compare_prefetch:
            print(f'{size}x{size}:', flush=True)
            results.append(compare_prefetch(args, scene, work))
            continue
        cmd = [sys.executable, osp.abspath(__file__), '--run-one', '--input', scene,
               '--output', osp.join(work, f'mask_{size}.tif'), '--tile', str(args.tile),
               '--overlap', str(args.overlap), '--batch', str(args.batch),
               '--window', str(args.window), '--width', str(args.width),
               '--backend', args.backend]
        if args.prefetch is not None:
            cmd += ['--prefetch', str(args.prefetch)]
        if not args.no_prob:
            cmd += ['--prob', osp.join(work, f'prob_{size}.tif')]
        if args.polygons:
            cmd += ['--polygons-out', osp.join(work, f'polygons_{size}.gpkg')]
        if args.threads:
            cmd += ['--threads', str(args.threads)]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            print(out.stderr[-4000:], file=sys.stderr)
            return 1
        r = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(r)
        t = r['times']
        print(f'{size}x{size}: {r["backend"]}; {r["tiles"]} tiles, {r["polygons"]} polygons, '
              f'peak RSS {r["peak_rss_mb"]:.0f} MiB, wall {r["wall_s"]:.1f} s (model setup '
              f'{t["setup"]:.1f} s), model {r["model_s"]:.1f} s, '
              f'{100 * r["outside_model"]:.1f} % of the mapping outside the model '
              f'(read {t["read"]:.1f}, normalise {t["normalize"]:.1f}, wait {t["wait"]:.1f}, '
              f'blend {t["blend"]:.1f}, write {t["write"]:.1f} s, of it COG '
              f'{t.get("cog", 0):.1f} s), vectorising +{t["polygons"]:.1f} s; '
              f'{r["threads"]} torch threads)', flush=True)
    if len(results) > 1 and not args.compare_prefetch:
        lo = min(results, key=lambda r: r['size'])
        hi = max(results, key=lambda r: r['size'])
        print(f'peak RSS ratio {hi["size"]}^2 / {lo["size"]}^2: '
              f'{hi["peak_rss_mb"] / lo["peak_rss_mb"]:.3f}')
    if not args.keep and not args.workdir:
        for f in os.listdir(work):
            os.remove(osp.join(work, f))
        os.rmdir(work)
    return 0


def main(argv=None) -> int:
    from lszoo.cli.tool import run_tool
    return run_tool(run, parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
