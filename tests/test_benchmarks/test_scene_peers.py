"""benchmarks.scene_peers: its own logic (the peers are not installed with lszoo): mask
agreement, a tool that fails is a table row rather than the end of the run."""
import argparse
import json

import numpy as np
import rasterio
from rasterio.transform import from_origin

from benchmarks import scene_peers as sp


def _mask(path, data):
    profile = dict(driver='GTiff', width=data.shape[1], height=data.shape[0], count=1,
                   dtype='uint8', crs='EPSG:32633', transform=from_origin(0, 64, 1, 1))
    with rasterio.open(path, 'w', **profile) as dst:
        dst.write(data.astype('uint8'), 1)
    return str(path)


def test_agreement_counts_equal_pixels_and_lszoo_nodata_as_background(tmp_path):
    ref = np.zeros((8, 16), np.uint8)
    ref[0, :4] = 1
    ref[1, :2] = 255  # lszoo's nodata: no landslide
    other = np.zeros((8, 16), np.uint8)
    other[0, :3] = 1  # one landslide pixel missed
    other[2, 0] = 1  # one extra
    share = sp.agreement(_mask(tmp_path / 'a.tif', ref), _mask(tmp_path / 'b.tif', other))
    assert share == (128 - 2) / 128


def test_a_failing_tool_is_reported_not_fatal(tmp_path):
    spec = tmp_path / 'spec.json'
    spec.write_text(json.dumps(dict(scene=str(tmp_path / 'missing.tif'), threshold=0.5,
                                    torchscript=str(tmp_path / 'missing.ts'))))
    a = argparse.Namespace(tile=64, overlap=8, batch=2, threads=1, timeout=300, device='cpu')
    import sys
    row = sp.run_tool('rasterio', sys.executable, str(spec), str(tmp_path / 'm.tif'), a)
    assert row['exit'] != 0 and not row['timed_out']
    assert row['error'] and row['peak_rss_mb'] > 0
    row.update(size=64)
    line = sp.table([row]).splitlines()[-1]
    assert line.startswith('| 64² | rasterio | failed |') and f"exit {row['exit']}" in line


def test_ratios_to_lszoo_pair_each_repetition():
    rows = [dict(tool='lszoo', size=64, rep=0, map_s=2.0), dict(tool='geoai', size=64, rep=0,
                                                                 map_s=3.0),
            dict(tool='geoai', size=64, rep=1, map_s=8.0), dict(tool='lszoo', size=64, rep=1,
                                                                 map_s=4.0),
            dict(tool='terratorch', size=64, rep=1, exit=1)]
    r = sp.lszoo_ratios(rows)
    assert r == {'64 geoai': dict(ratios=[1.5, 2.0], median=1.75)}


def test_lszoo_and_the_rasterio_loop_on_a_small_scene(tmp_path):
    """End to end on a 256² scene: lszoo's row names its backend and leaves its model setup out
    of the map time; the plain rasterio loop (installed with lszoo) agrees with its mask."""
    import sys
    a = argparse.Namespace(tile=128, overlap=16, batch=2, threads=1, timeout=300, device='cpu',
                           width=4, reps=1, tools=['lszoo', 'rasterio'], workdir=str(tmp_path))
    rows = sp.run_size(a, 256, lambda tool: sys.executable)
    by_tool = {r['tool']: r for r in rows}
    assert all(r['exit'] == 0 for r in rows), rows
    lszoo = by_tool['lszoo']
    assert lszoo['backend'].startswith('backend: onnx') and lszoo['setup_s'] > 0
    assert 0 < lszoo['map_s'] < lszoo['wall_s']
    assert by_tool['rasterio']['agreement'] > 0.99
    assert lszoo['backend'] in sp.table(rows)
