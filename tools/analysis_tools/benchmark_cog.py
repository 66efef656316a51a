"""Peak memory of scene output writing: tiled GeoTIFF only (before) vs tiled + COG (after).

    python tools/analysis_tools/benchmark_cog.py [--size 16384] [--window 2048] [--workdir DIR]

Scene inference writes its mask (uint8) and probabilities (float32) window by window into tiled
GeoTIFFs; with COG output it then translates each with GDAL's COG driver
(:func:`lszoo.geo.cog.translate_to_cog`, overviews MODE / AVERAGE). This tool isolates that
output stage (no model: a smooth synthetic probability field stands in for the predictions) and
runs each variant in a fresh process, printing the process's peak RSS (``ru_maxrss``), its RSS
after imports, and the wall time. The COG files are checked with
:func:`lszoo.geo.cog.cog_problems`.
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


def _rss_mib() -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return float('nan')


def write_outputs(workdir: str, size: int, window: int, cog: bool) -> dict:
    """Write the mask and probability rasters as scene inference does; translate to COG."""
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    from lszoo.geo.cog import cog_problems, translate_to_cog
    base = _rss_mib()
    t0 = time.perf_counter()
    common = dict(driver='GTiff', width=size, height=size, count=1, crs='EPSG:32633',
                  transform=from_origin(500000, 4200000, 10, 10), tiled=True, blockxsize=256,
                  blockysize=256, BIGTIFF='IF_SAFER')
    paths = {k: osp.join(workdir, f'{k}.tif') for k in ('mask', 'probability')}
    with rasterio.Env(GDAL_CACHEMAX=64), \
            rasterio.open(paths['mask'], 'w', dtype='uint8', nodata=255, compress='deflate',
                          zlevel=1, **common) as m, \
            rasterio.open(paths['probability'], 'w', dtype='float32', compress='deflate',
                          zlevel=1, **common) as p:
        for y in range(0, size, window):
            for x in range(0, size, window):
                h, w = min(window, size - y), min(window, size - x)
                yy, xx = np.mgrid[y:y + h, x:x + w].astype(np.float32)
                prob = 0.5 + 0.5 * np.sin(yy / 370.0) * np.cos(xx / 290.0) ** 3
                win = Window(x, y, w, h)
                p.write(prob, 1, window=win)
                m.write((prob > 0.8).astype(np.uint8), 1, window=win)
    t_tiled = time.perf_counter() - t0
    out = dict(rss_after_imports_mib=round(base, 1), tiled_s=round(t_tiled, 1))
    if cog:
        t0 = time.perf_counter()
        for kind, path in paths.items():
            dst = path.replace('.tif', '_cog.tif')
            translate_to_cog(path, dst, kind)
            problems = cog_problems(dst)
            if problems:
                raise RuntimeError(f'{dst}: {problems}')
            out[f'{kind}_cog_mib'] = round(osp.getsize(dst) / 2**20, 1)
        out['cog_s'] = round(time.perf_counter() - t0, 1)
    out['peak_rss_mib'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--size', type=int, default=16384)
    p.add_argument('--window', type=int, default=2048)
    p.add_argument('--workdir', help='scratch folder (default: a temporary one, removed)')
    p.add_argument('--child', choices=['tiled', 'cog'], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        res = write_outputs(args.workdir, args.size, args.window, args.child == 'cog')
        print(json.dumps(res))
        return 0
    print(f'machine: {platform.node()} {platform.processor() or platform.machine()}, '
          f'{os.cpu_count()} CPUs; size {args.size}x{args.size}, window {args.window}')
    results = {}
    for variant in ('tiled', 'cog'):
        with tempfile.TemporaryDirectory(dir=args.workdir) as d:
            cmd = [sys.executable, __file__, '--child', variant, '--size', str(args.size),
                   '--window', str(args.window), '--workdir', d]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode:
                print(r.stderr, file=sys.stderr)
                return r.returncode
            results[variant] = json.loads(r.stdout.strip().splitlines()[-1])
            print(f'{variant:5s}: {results[variant]}')
    ratio = results['cog']['peak_rss_mib'] / results['tiled']['peak_rss_mib']
    print(f'peak RSS ratio cog / tiled: {ratio:.2f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
