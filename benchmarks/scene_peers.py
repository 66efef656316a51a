"""Whole-scene mapping: lszoo beside what a user would otherwise pick, same model, same scene.

    python -m benchmarks.scene_peers [--sizes 4096] [--tile 512] [--overlap 64] [--batch 4]
        [--threads 1] [--width 4] [--peers-python ../venv-peers/bin/python]
        [--tools lszoo rasterio terratorch geoai] [--workdir DIR] [--timeout 900] [--json FILE]
        [--device cpu|cuda] [--reps 1]

(from the repository root). Results: ``benchmarks/results/scene_peers.md``.

The peers live in their own environment (their dependencies are not lszoo's; nothing of them is
in ``setup.cfg``)::

    python -m venv ../venv-peers          # beside the clone, not inside it
    ../venv-peers/bin/pip install terratorch geoai-py rasterio

Contenders, each mapping the same synthetic 3-band uint8 GeoTIFF
(:func:`write_synthetic_scene` of ``tools/analysis_tools/benchmark_scene.py``) with the same
random-weight U-Net (mmseg ``UNet``, base width ``--width`` (4), 3 stages; seed 0), tile
``--tile``, overlap ``--overlap``, ``--batch`` tiles per forward pass, input scaled by 1/255,
mask = probability > one threshold (calibrated once: about 3 % of a central tile is landslide):

- ``lszoo``: :func:`lszoo.apis.map_scene` (what ``tools/infer_scene.py`` runs) with the config
  and checkpoint, plain tiled GeoTIFF mask (``cog=False``, ``stac=False``), otherwise defaults
  (on a CPU: ONNX Runtime, the graph exported on the first run and cached beside the checkpoint;
  its model setup is left out of the map time as the peers' model loading is).
- ``terratorch``: ``terratorch.tasks.tiled_inference.tiled_inference`` (crop = tile, stride =
  tile - overlap, delta 0, blending on) over the whole scene read into memory, as it takes it.
- ``geoai``: ``geoai.train.semantic_inference_on_geotiff`` (window = tile, same overlap); it wants
  class scores, so the model's logit ``z`` is given as two classes ``(-z/2, z/2)`` whose softmax
  is ``(1 - sigmoid(z), sigmoid(z))``; ``probability_threshold`` = the threshold.
- ``rasterio``: a plain sliding window: windows read with rasterio, probabilities averaged over
  the overlaps in whole-scene arrays, mask written at the end.

The peers get the model as TorchScript (``torch.jit.trace`` of lszoo's logits, the same weights);
each tool runs in its own process (the peers with ``--peers-python``), so a crash, a timeout or a
memory failure is reported in the table and the others go on. Per run: the time of the mapping
call itself (model loading and imports excluded), megapixels/s, the process's peak RSS
(``os.wait4``'s ``ru_maxrss``) and the share of pixels whose mask equals lszoo's.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOLS = ('lszoo', 'rasterio', 'terratorch', 'geoai')


def _bench_scene_module():
    import importlib.util
    path = osp.join(REPO, 'tools', 'analysis_tools', 'benchmark_scene.py')
    spec = importlib.util.spec_from_file_location('lszoo_benchmark_scene', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def prepare(work: str, size: int, tile: int, width: int = 4) -> dict:
    """The scene, lszoo's config + checkpoint, the TorchScript copy and the threshold."""
    import torch
    from mmengine.config import Config

    from lszoo.apis import init_scene_model
    bench = _bench_scene_module()
    scene = osp.join(work, f'scene_{size}.tif')
    if not osp.exists(scene):
        bench.write_synthetic_scene(scene, size)
    cfg_path, ckpt = osp.join(work, 'unet.py'), osp.join(work, 'unet.pth')
    ts_path = osp.join(work, 'unet_logits.ts')
    cfg = bench.bench_config(width)
    torch.manual_seed(0)
    model, _ = init_scene_model(cfg)
    Config(cfg).dump(cfg_path)
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)

    class Logits(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            return self.m(x, mode='tensor')

    with torch.no_grad():
        torch.jit.trace(Logits(model.eval()), torch.rand(1, 3, tile, tile)).save(ts_path)
    threshold = bench.calibrate_threshold(model, scene, tile)
    return dict(scene=scene, config=cfg_path, checkpoint=ckpt, torchscript=ts_path,
                threshold=threshold, size=size)


def child_lszoo(spec, out, a):
    """map_scene's time less its model setup (config, build, checkpoint, ONNX export or cache
    load), as the peers' model loading is outside their timing; also the backend it chose."""
    from lszoo.apis import map_scene
    t0 = time.perf_counter()
    result = map_scene(spec['config'], spec['scene'], out, spec['checkpoint'], tile=a.tile,
                       overlap=a.overlap, batch=a.batch, threshold=spec['threshold'],
                       progress=False, cog=False, stac=False, device=a.device)
    setup = result.times.get('setup', 0.0)
    return dict(map_s=time.perf_counter() - t0 - setup, setup_s=setup, backend=result.backend)


def _write_mask(src_path, out, mask):
    import rasterio
    with rasterio.open(src_path) as src:
        profile = dict(driver='GTiff', width=src.width, height=src.height, count=1,
                       dtype='uint8', crs=src.crs, transform=src.transform, tiled=True,
                       compress='deflate')
    with rasterio.open(out, 'w', **profile) as dst:
        dst.write(mask.astype('uint8'), 1)


def child_terratorch(spec, out, a, model):
    import rasterio
    import torch
    from terratorch.tasks.tiled_inference import tiled_inference
    t0 = time.perf_counter()
    with rasterio.open(spec['scene']) as src:
        x = torch.from_numpy(src.read().astype('float32') / 255.0)[None]
    with torch.no_grad():
        logits = tiled_inference(model, x, out_channels=1, crop=a.tile,
                                 stride=a.tile - a.overlap, delta=0, batch_size=a.batch,
                                 device=a.device)
    prob = torch.sigmoid(logits[0, 0]).numpy()
    _write_mask(spec['scene'], out, prob > spec['threshold'])
    return time.perf_counter() - t0


def child_geoai(spec, out, a, model):
    import torch
    from geoai.train import semantic_inference_on_geotiff

    class TwoClass(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            z = self.m(x)
            return torch.cat([-z / 2, z / 2], 1)

    t0 = time.perf_counter()
    semantic_inference_on_geotiff(model=TwoClass(model), geotiff_path=spec['scene'],
                                  output_path=out, window_size=a.tile, overlap=a.overlap,
                                  batch_size=a.batch, num_channels=3, num_classes=2,
                                  device=torch.device(a.device),
                                  probability_threshold=spec['threshold'], quiet=True)
    return time.perf_counter() - t0


def child_rasterio(spec, out, a, model):
    """A plain sliding window: the overlaps averaged in whole-scene arrays."""
    import numpy as np
    import rasterio
    import torch
    from rasterio.windows import Window
    t0 = time.perf_counter()
    step = a.tile - a.overlap
    with rasterio.open(spec['scene']) as src:
        h, w = src.height, src.width
        total = np.zeros((h, w), np.float32)
        count = np.zeros((h, w), np.float32)
        ys = sorted({min(y, max(h - a.tile, 0)) for y in range(0, h, step)})
        xs = sorted({min(x, max(w - a.tile, 0)) for x in range(0, w, step)})
        corners = [(y, x) for y in ys for x in xs]
        for i in range(0, len(corners), a.batch):
            group = corners[i:i + a.batch]
            tiles = np.stack([src.read(window=Window(x, y, a.tile, a.tile)) for y, x in group])
            with torch.no_grad():
                x = torch.from_numpy(tiles.astype('float32') / 255.0).to(a.device)
                prob = torch.sigmoid(model(x)).cpu()
            for (y, x), p in zip(group, prob[:, 0].numpy()):
                total[y:y + a.tile, x:x + a.tile] += p
                count[y:y + a.tile, x:x + a.tile] += 1
    _write_mask(spec['scene'], out, total / count > spec['threshold'])
    return time.perf_counter() - t0


def child(a) -> int:
    """Run one tool (in its own process) and print one JSON line."""
    import torch
    torch.set_num_threads(a.threads)
    with open(a.spec) as f:
        spec = json.load(f)
    if a.child == 'lszoo':
        row = child_lszoo(spec, a.out, a)
    else:
        model = torch.jit.load(spec['torchscript'], map_location=a.device).eval()
        row = dict(map_s=globals()[f'child_{a.child}'](spec, a.out, a, model))
    print(json.dumps(row), flush=True)
    return 0


def run_tool(tool, python, spec_path, out, a) -> dict:
    """One tool in a subprocess; its time, exit status and peak RSS (``os.wait4``)."""
    cmd = [python, '-m', 'benchmarks.scene_peers', '--child', tool, '--spec', spec_path,
           '--out', out, '--tile', str(a.tile), '--overlap', str(a.overlap), '--batch',
           str(a.batch), '--threads', str(a.threads), '--device', a.device]
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), MKL_NUM_THREADS=str(a.threads),
               PYTHONPATH=REPO)
    log = out + '.log'
    t0 = time.perf_counter()
    with open(log, 'w') as f:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=f, stderr=subprocess.STDOUT)
        deadline = t0 + a.timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.2)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    row = dict(tool=tool, exit=code, wall_s=wall, peak_rss_mb=usage.ru_maxrss / 1024.0,
               timed_out=wall > a.timeout)
    lines = open(log).read().strip().splitlines()
    if code == 0 and lines:
        row.update(json.loads(lines[-1]))
    else:
        row['error'] = ' | '.join(lines[-3:])[-400:]
    return row


def agreement(ref: str, other: str) -> float:
    """Share of pixels where the two masks are equal (lszoo's nodata 255 counts as 0)."""
    import numpy as np
    import rasterio
    same = total = 0
    with rasterio.open(ref) as a, rasterio.open(other) as b:
        for _, win in a.block_windows(1):
            ma = a.read(1, window=win)
            ma = np.where(ma == 1, 1, 0)
            mb = (b.read(1, window=win) > 0).astype(int)
            same += int((ma == mb).sum())
            total += ma.size
    return same / total


def run_size(a, size, python_for) -> list:
    work = osp.join(a.workdir, str(size))
    os.makedirs(work, exist_ok=True)
    spec = prepare(work, size, a.tile, a.width)
    spec_path = osp.join(work, 'spec.json')
    with open(spec_path, 'w') as f:
        json.dump(spec, f)
    rows = []
    for rep in range(a.reps):  # the order reverses every repetition: drift hits all alike
        for tool in (a.tools if rep % 2 == 0 else a.tools[::-1]):
            out = osp.join(work, f'mask_{tool}.tif')
            if osp.exists(out):
                os.remove(out)
            row = run_tool(tool, python_for(tool), spec_path, out, a)
            row.update(size=size, mpx=size * size / 1e6, rep=rep)
            if 'map_s' in row:
                row['mpx_s'] = row['mpx'] / row['map_s']
            rows.append(row)
            print(json.dumps(row), flush=True)
        ref = osp.join(work, 'mask_lszoo.tif')
        for row in rows[-len(a.tools):]:
            out = osp.join(work, f"mask_{row['tool']}.tif")
            if row['exit'] == 0 and osp.exists(ref) and osp.exists(out):
                row['agreement'] = agreement(ref, out)
    return rows


def lszoo_ratios(rows) -> dict:
    """Per tool and size, the map-time ratios tool / lszoo of each repetition (> 1: slower
    than lszoo) and their median."""
    import statistics
    base = {(r['size'], r['rep']): r['map_s'] for r in rows
            if r['tool'] == 'lszoo' and 'map_s' in r}
    out = {}
    for r in rows:
        key = (r['size'], r['rep'])
        if r['tool'] != 'lszoo' and 'map_s' in r and key in base:
            out.setdefault(f"{r['size']} {r['tool']}", []).append(r['map_s'] / base[key])
    return {k: dict(ratios=v, median=statistics.median(v)) for k, v in out.items()}


def table(rows) -> str:
    lines = ['| size | tool | map time (s) | Mpx/s | peak RSS (MiB) | mask = lszoo\'s | note |',
             '| --- | --- | ---: | ---: | ---: | ---: | --- |']
    for r in rows:
        ok = r['exit'] == 0 and 'map_s' in r
        lines.append(f"| {r['size']}² | {r['tool']} | {r['map_s']:.1f} |" if ok else
                     f"| {r['size']}² | {r['tool']} | failed |")
        if ok:
            agree = f"{100 * r['agreement']:.3f} %" if 'agreement' in r else ''
            note = r.get('backend', '')
            lines[-1] += f" {r['mpx_s']:.3f} | {r['peak_rss_mb']:.0f} | {agree} | {note} |"
        else:
            why = 'timed out' if r.get('timed_out') else f"exit {r['exit']}"
            lines[-1] += f" | | {r['peak_rss_mb']:.0f} | | {why}: {r.get('error', '')} |"
    return '\n'.join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='lszoo vs TerraTorch, geoai, rasterio: scene mapping')
    p.add_argument('--sizes', type=int, nargs='+', default=[4096])
    p.add_argument('--tile', type=int, default=512)
    p.add_argument('--overlap', type=int, default=64)
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--device', default='cpu', help="every tool's torch device")
    p.add_argument('--reps', type=int, default=1,
                   help="repetitions; the tools' order reverses every repetition")
    p.add_argument('--width', type=int, default=4, help='base channels of the U-Net')
    p.add_argument('--tools', nargs='+', default=list(TOOLS), choices=TOOLS)
    p.add_argument('--peers-python', default=osp.join(osp.dirname(REPO), 'venv-peers', 'bin',
                                                       'python'),
                   help='python of the peers\' environment (module docstring)')
    p.add_argument('--workdir', default=osp.join(REPO, 'work_dirs', 'scene_peers'))
    p.add_argument('--timeout', type=float, default=900, help='seconds per tool and size')
    p.add_argument('--json')
    p.add_argument('--child', choices=TOOLS, help=argparse.SUPPRESS)
    p.add_argument('--spec', help=argparse.SUPPRESS)
    p.add_argument('--out', help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None) -> int:
    a = parse_args(argv)
    if a.child:
        return child(a)
    load = os.getloadavg()[0]
    rows = []
    for size in a.sizes:
        rows += run_size(a, size, lambda t: sys.executable if t == 'lszoo' else a.peers_python)
    print(f'load average {load:.2f} at start, {os.getloadavg()[0]:.2f} at end')
    print(table(rows))
    ratios = lszoo_ratios(rows)
    for k, v in ratios.items():
        print(f"{k}: map time / lszoo's per repetition "
              f"{', '.join(f'{x:.3f}' for x in v['ratios'])}; median {v['median']:.3f}")
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(dict(rows=rows, ratios=ratios, args=vars(a), load_start=load), f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
