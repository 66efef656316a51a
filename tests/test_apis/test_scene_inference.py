"""Whole-scene inference (lszoo.apis.scene, tools/infer_scene.py).

Tiny random-weight models on small synthetic GeoTIFFs: georeferencing, nodata, window-size and
process-count invariance, polygons, DEM resampling, atomic writes.
"""
import os
import os.path as osp
import signal
import subprocess
import sys

import cv2
import numpy as np
import pytest
import rasterio
import torch
from rasterio.crs import CRS
from rasterio.transform import from_origin
from rasterio.warp import reproject, Resampling

from helpers import (REPO, SCENE_CRS, SCENE_TRANSFORM, assert_mask_is_thresholded, load_script,
                     read, run_infer_scene, save_checkpoint, tiny_scene_config, write_scene)
from lszoo.apis import scene as si
from lszoo.apis.scene import predictor
from lszoo.geo import grid
from lszoo.geo import reader as scene_reader
from lszoo.apis.scene.polygons import PolygonCollector
from lszoo.errors import CheckpointError, ConfigError, DataError

@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp('scene')
    cfg = tiny_scene_config()
    ckpt = save_checkpoint(cfg, d / 'tiny.pth')
    scene, data = write_scene(d / 'scene.tif', 300, 420)
    return dict(dir=d, cfg=cfg, ckpt=ckpt, scene=scene, data=data)


# ---------------------------------------------------------------------------------------------
def test_tile_origins_and_weights():
    assert grid.tile_origins(100, 128, 96) == [0]
    assert grid.tile_origins(300, 128, 96) == [0, 96, 172]  # last tile ends on the edge
    assert grid.tile_origins(224, 128, 96) == [0, 96]
    w = grid.blend_weights(8, 4)
    # 1-D ramp: d = 0,1,2,3 -> (d + .5) / 4 -> 1 + round(31 * (.125, .375, .625, .875))
    assert w[0, :4].tolist() == [5 * v for v in (5, 13, 20, 28)]
    assert w[3, 3] == 28 * 28 and (w == w[::-1, ::-1]).all() and w.min() >= 1
    assert grid.acc_dtype(512, 64) == np.int32 and grid.acc_dtype(128, 120) == np.int64


def test_outputs_match_input_and_blend_matches_reference(setup):
    d = setup['dir']
    res = si.map_scene(setup['cfg'], setup['scene'], str(d / 'm.tif'), setup['ckpt'],
                       prob=str(d / 'p.tif'), tile=128, overlap=32, batch=3, window=256,
                       progress=False)
    assert res.n_tiles == 3 * 5 and res.world_size == 1
    with rasterio.open(setup['scene']) as src, rasterio.open(d / 'm.tif') as m, \
            rasterio.open(d / 'p.tif') as p:
        for out in (m, p):
            assert out.crs == src.crs and out.transform == src.transform
            assert (out.height, out.width, out.count) == (src.height, src.width, 1)
            assert out.nodata is None  # the input declares no nodata
            assert out.profile['tiled'] and out.profile['compress'] in ('deflate', 'zstd')
        assert m.profile['compress'] == 'deflate'
        mask, prob = m.read(1), p.read(1)
    assert m.dtypes[0] == 'uint8' and p.dtypes[0] == 'float32'
    assert set(np.unique(mask)) <= {0, 1}
    assert_mask_is_thresholded(mask, prob, 0.5)
    assert 0 < mask.mean() < 1  # random weights still give both classes on this scene
    # reference: predict every tile alone and blend in float64 with the same weights
    model, _ = si.init_scene_model(setup['cfg'], setup['ckpt'])
    data = setup['data']
    acc = np.zeros(data.shape[1:]), np.zeros(data.shape[1:])
    wts = grid.blend_weights(128, 32).astype(np.float64)
    for y in grid.tile_origins(300, 128, 96):
        for x in grid.tile_origins(420, 128, 96):
            t = torch.from_numpy(np.ascontiguousarray(data[None, :, y:y + 128, x:x + 128]))
            pr = predictor.predict_tiles(model, t)[0].numpy()
            acc[0][y:y + 128, x:x + 128] += wts * pr
            acc[1][y:y + 128, x:x + 128] += wts
    ref = acc[0] / acc[1]
    assert np.abs(prob - ref).max() < 2e-5  # 16-bit quantisation of each tile


def test_mask_identical_for_any_window_size(setup):
    d = setup['dir']
    outs = []
    for window in (256, 512, 768):
        si.map_scene(setup['cfg'], setup['scene'], str(d / f'w{window}.tif'), setup['ckpt'],
                     prob=str(d / f'w{window}p.tif'), tile=128, overlap=48, batch=2,
                     window=window, progress=False)
        outs.append((read(d / f'w{window}.tif')[0], read(d / f'w{window}p.tif')[0]))
    for mask, prob in outs[1:]:
        np.testing.assert_array_equal(mask, outs[0][0])
        np.testing.assert_array_equal(prob, outs[0][1])  # bit-identical, not just close


def test_nodata_stays_nodata(tmp_path, setup):
    scene, data = write_scene(tmp_path / 'nd.tif', 200, 260, nodata=-9999.0)
    with rasterio.open(scene, 'r+') as ds:
        block = ds.read()
        block[:, 20:60, 30:200] = -9999.0  # all bands: nodata
        block[0, 100:110, 100:110] = -9999.0  # one band only: still valid under GDAL rules
        ds.write(block)
    si.map_scene(setup['cfg'], scene, str(tmp_path / 'm.tif'), setup['ckpt'],
                 prob=str(tmp_path / 'p.tif'), tile=128, overlap=32, window=256, progress=False)
    mask, prof = read(tmp_path / 'm.tif')
    prob, pprof = read(tmp_path / 'p.tif')
    assert prof['nodata'] == 255 and pprof['nodata'] == -9999.0
    hole = np.zeros(mask.shape, bool)
    hole[20:60, 30:200] = True
    assert (mask[hole] == 255).all() and (mask[~hole] != 255).all()
    assert (prob[hole] == -9999.0).all() and (prob[~hole] >= 0).all()


def test_scene_smaller_than_tile(tmp_path, setup):
    scene, _ = write_scene(tmp_path / 'small.tif', 50, 70)
    res = si.map_scene(setup['cfg'], scene, str(tmp_path / 'm.tif'), setup['ckpt'],
                       tile=128, overlap=32, window=256, progress=False)
    mask, prof = read(tmp_path / 'm.tif')
    assert res.n_tiles == 1 and mask.shape == (50, 70) and prof['transform'] == SCENE_TRANSFORM
    assert set(np.unique(mask)) <= {0, 1}


def test_no_georeference_warns_and_uses_pixels(tmp_path, setup):
    scene, _ = write_scene(tmp_path / 'plain.tif', 140, 150, georef=False)
    with pytest.warns(UserWarning, match='no georeferencing'):
        si.map_scene(setup['cfg'], scene, str(tmp_path / 'm.tif'), setup['ckpt'],
                     polygons=str(tmp_path / 'p.gpkg'), tile=64, overlap=16, window=256,
                     progress=False)
    import pyogrio.raw
    meta, _, geoms, fields = pyogrio.raw.read(str(tmp_path / 'p.gpkg'))
    mask, prof = read(tmp_path / 'm.tif')
    assert prof['crs'] is None and meta['crs'] is None
    # pixel coordinates: area == pixel count
    area = fields[meta['fields'].tolist().index('area')]
    assert area.sum() == pytest.approx((mask == 1).sum())


def count_components(mask):
    n, _ = cv2.connectedComponents((mask == 1).astype(np.uint8), connectivity=4)
    return n - 1


@pytest.mark.parametrize('ext', ['gpkg', 'geojson'])
def test_polygons_round_trip(tmp_path, setup, ext):
    import pyogrio.raw
    import shapely
    counts = []
    for window in (256, 512):  # landslides crossing block edges are merged into one polygon
        out = tmp_path / f'poly{window}.{ext}'
        res = si.map_scene(setup['cfg'], setup['scene'], str(tmp_path / 'm.tif'),
                           setup['ckpt'], prob=str(tmp_path / 'p.tif'), polygons=str(out),
                           tile=128, overlap=32, window=window, progress=False)
        meta, _, wkb, fields = pyogrio.raw.read(str(out))
        names = meta['fields'].tolist()
        mask, _ = read(tmp_path / 'm.tif')
        prob, _ = read(tmp_path / 'p.tif')
        geoms = shapely.from_wkb(wkb)
        assert CRS.from_user_input(meta['crs']) == SCENE_CRS
        assert res.n_polygons == len(geoms) == count_components(mask) > 1
        area = fields[names.index('area')]
        npx = fields[names.index('n_pixels')]
        np.testing.assert_allclose(area, npx * 100.0)  # 10 m pixels
        np.testing.assert_allclose(area, shapely.area(geoms))
        assert npx.sum() == (mask == 1).sum()
        mp = fields[names.index('mean_prob')]
        assert (mp > 0.5).all() and (mp <= 1).all()
        # the largest polygon's mean probability equals the mean over its pixels
        big = int(np.argmax(npx))
        inside = rasterio.features.geometry_mask([geoms[big]], mask.shape, SCENE_TRANSFORM,
                                                 invert=True)
        assert inside.sum() == npx[big]
        assert mp[big] == pytest.approx(float(prob[inside].mean()), rel=1e-5)
        counts.append(sorted(npx.tolist()))
    assert counts[0] == counts[1]


def test_separate_dem_is_resampled_to_image_grid(tmp_path, setup):
    scene, _ = write_scene(tmp_path / 'rgb.tif', 120, 160, bands=3)
    # DEM at 25 m covering a larger extent than the 10 m image
    dem_tf = from_origin(499800.0, 4200200.0, 25.0, 25.0)
    dem_path, dem = write_scene(tmp_path / 'dem.tif', 90, 100, bands=1, seed=3,
                                transform=dem_tf)
    from contextlib import ExitStack
    with ExitStack() as stack:
        reader = scene_reader.SceneReader(stack, scene, dem_path, ['R', 'G', 'B', 'DEM'], 4, None)
        got = reader.read(10, 70, 20, 100)
    ref = np.zeros((120, 160), np.float32)
    reproject(dem[0], ref, src_transform=dem_tf, src_crs=SCENE_CRS, dst_transform=SCENE_TRANSFORM,
              dst_crs=SCENE_CRS, resampling=Resampling.bilinear)
    with rasterio.open(scene) as src:
        np.testing.assert_array_equal(got[:3], src.read(window=((10, 70), (20, 100))))
    np.testing.assert_allclose(got[3], ref[10:70, 20:100], atol=1e-4)
    res = si.map_scene(setup['cfg'], scene, str(tmp_path / 'm.tif'), setup['ckpt'],
                       dem=dem_path, tile=64, overlap=16, window=256, progress=False)
    assert res.n_tiles == 3 * 3
    mask, prof = read(tmp_path / 'm.tif')
    assert (mask != 255).all()  # the DEM covers the whole image (a warped DEM declares nodata)
    # a DEM covering only the west half (x < 500800): the east half has no elevation -> nodata
    half, _ = write_scene(tmp_path / 'half.tif', 48, 16, bands=1, seed=4,
                          transform=from_origin(500000.0, 4200000.0, 50.0, 25.0))
    si.map_scene(setup['cfg'], scene, str(tmp_path / 'm2.tif'), setup['ckpt'],
                 dem=half, tile=64, overlap=16, window=256, progress=False)
    mask, prof = read(tmp_path / 'm2.tif')
    assert prof['nodata'] == 255
    assert (mask[:, :78] != 255).all() and (mask[:, 82:] == 255).all()


def test_band_selection_and_errors(tmp_path, setup):
    scene, _ = write_scene(tmp_path / 'six.tif', 64, 64, bands=6)
    with pytest.raises(DataError, match='has 6 band.*needs 4'):
        si.map_scene(setup['cfg'], scene, str(tmp_path / 'm.tif'), setup['ckpt'],
                     tile=64, overlap=16, window=256, progress=False)
    # by name: the config's R, G, B, DEM picked out of six named bands
    names = ['X', 'DEM', 'B', 'G', 'R', 'Y']
    seen = []

    def record(img):
        seen.append(img.copy())
        return img
    si.map_scene(setup['cfg'], scene, str(tmp_path / 'm.tif'), setup['ckpt'], tile=64, overlap=16,
                 window=256, input_bands=names, normalize=record, progress=False)
    with rasterio.open(scene) as src:
        full = src.read().transpose(1, 2, 0)
    np.testing.assert_array_equal(seen[0], full[..., [4, 3, 2, 1]])
    with pytest.raises(DataError, match=r"lacks band\(s\) \['G'\]"):
        si.map_scene(setup['cfg'], scene, str(tmp_path / 'm.tif'), setup['ckpt'], tile=64,
                     overlap=16, window=256, input_bands=['X', 'DEM', 'B', 'Q', 'R', 'Y'],
                     progress=False)
    with pytest.raises(ConfigError, match='window must be a multiple of 256'):
        si.map_scene(setup['cfg'], setup['scene'], str(tmp_path / 'm.tif'), setup['ckpt'],
                     tile=128, window=100, progress=False)
    bad = tiny_scene_config(bands=('R', 'G', 'B'))
    with pytest.raises(CheckpointError, match='does not fit the config model'):
        si.map_scene(bad, setup['scene'], str(tmp_path / 'm.tif'), setup['ckpt'],
                     progress=False)


def test_config_normalisation_is_applied_per_tile(setup):
    cfg = tiny_scene_config(pipeline=[
        dict(type='LoadLandslideSample'),
        dict(type='NormalizeBands', mode='meanstd', mean=dict(R=1, G=2, B=3, DEM=4),
             std=dict(R=2, G=2, B=2, DEM=4)),
        dict(type='PackSegInputs')])
    from mmengine.config import Config
    norm = predictor.build_normalizer(Config(cfg), ['R', 'G', 'B', 'DEM'])
    assert norm.steps == ['NormalizeBands']  # loading and packing are skipped
    img = np.full((4, 4, 4), 5.0, np.float32)
    np.testing.assert_allclose(norm(img)[0, 0], [2.0, 1.5, 1.0, 0.25])


def test_softmax_model(tmp_path, setup):
    cfg = tiny_scene_config(out_channels=2)
    ckpt = save_checkpoint(cfg, tmp_path / 'soft.pth', seed=1)
    si.map_scene(cfg, setup['scene'], str(tmp_path / 'm.tif'), ckpt,
                 prob=str(tmp_path / 'p.tif'), tile=128, overlap=32, window=256,
                 progress=False)
    mask, _ = read(tmp_path / 'm.tif')
    prob, _ = read(tmp_path / 'p.tif')
    assert_mask_is_thresholded(mask, prob, 0.5)


def test_interrupted_run_leaves_no_output(tmp_path, setup, monkeypatch):
    calls = []
    real = predictor.predict_tiles

    def flaky(model, x):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(model, x)
    monkeypatch.setattr(predictor, 'predict_tiles', flaky)
    with pytest.raises(KeyboardInterrupt):
        si.map_scene(setup['cfg'], setup['scene'], str(tmp_path / 'm.tif'), setup['ckpt'],
                     prob=str(tmp_path / 'p.tif'), polygons=str(tmp_path / 'p.gpkg'),
                     tile=128, overlap=32, batch=1, window=256, progress=False,
                     backend='torch')  # the PyTorch forward is the one replaced
    assert len(calls) == 3 and os.listdir(tmp_path) == []


def test_tool_identical_mask_with_one_and_two_processes(tmp_path, setup, capsys):
    """torchrun with 2 gloo processes (window 256, reading ahead) vs one plain process (window
    512, reading and computing in turn)."""
    from mmengine.config import Config
    cfg_path = tmp_path / 'tiny_cfg.py'
    Config(setup['cfg']).dump(str(cfg_path))
    common = ['--tile', '128', '--overlap', '32', '--batch', '2', '--no-progress']
    r = run_infer_scene([str(cfg_path), setup['ckpt'], setup['scene'], str(tmp_path / 'n2.tif'),
                  '--prob', str(tmp_path / 'n2p.tif'), '--window', '256', '--prefetch', '2',
                  *common], nproc=2)
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'on 2 process(es)' in r.stdout
    r = run_infer_scene([str(cfg_path), setup['ckpt'], setup['scene'], str(tmp_path / 'n1.tif'),
                  '--prob', str(tmp_path / 'n1p.tif'), '--window', '512', '--threads', '1',
                  '--prefetch', '0', *common])
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'on 1 process(es)' in r.stdout
    np.testing.assert_array_equal(read(tmp_path / 'n1.tif')[0], read(tmp_path / 'n2.tif')[0])
    np.testing.assert_array_equal(read(tmp_path / 'n1p.tif')[0], read(tmp_path / 'n2p.tif')[0])
    # user errors: one message, no traceback, status 2
    tool = load_script('tools/infer_scene.py')
    assert tool.main([str(cfg_path), setup['ckpt'], str(tmp_path / 'missing.tif'),
                      str(tmp_path / 'x.tif')]) == 2
    err = capsys.readouterr().err
    assert err.startswith('lszoo: error: cannot open input scene') and 'missing.tif' in err
    assert not osp.exists(tmp_path / 'x.tif')


def test_zoo_dual_stream_config_with_separate_dem(tmp_path):
    """A real zoo config (DiGATe-UNet demo: optical R,G,B + topo DEM,slope streams) with the DEM
    from its own file: channel order R, G, B, DEM, slope, random weights, one tile."""
    cfg = osp.join(REPO, 'configs', 'demo', 'digate_unet_synthetic.py')
    if not osp.exists(cfg):
        pytest.skip('configs/demo/digate_unet_synthetic.py not in this checkout')
    scene, data = write_scene(tmp_path / 'rgbs.tif', 64, 80, bands=4)  # R, G, B, slope
    dem, dem_data = write_scene(tmp_path / 'dem.tif', 64, 80, bands=1, seed=5)
    seen = []

    def record(img):
        seen.append(img.copy())
        return img
    torch.manual_seed(0)
    res = si.map_scene(cfg, scene, str(tmp_path / 'm.tif'), dem=dem, tile=64, overlap=0,
                       window=256, normalize=record, progress=False)
    assert res.n_tiles == 2 and seen[0].shape == (64, 64, 5)
    np.testing.assert_array_equal(seen[0][..., [0, 1, 2, 4]],
                                  data[:, :, :64].transpose(1, 2, 0))
    np.testing.assert_array_equal(seen[0][..., 3], dem_data[0, :, :64])
    mask, prof = read(tmp_path / 'm.tif')
    assert mask.shape == (64, 80) and set(np.unique(mask)) <= {0, 1}


@pytest.mark.parametrize('ext', ['gpkg', 'geojson'])
def test_no_landslide_gives_empty_inventory(tmp_path, setup, monkeypatch, ext):
    import pyogrio.raw
    monkeypatch.setattr(predictor, 'predict_tiles', lambda model, x: torch.zeros(
        x.shape[0], x.shape[2], x.shape[3]))
    res = si.map_scene(setup['cfg'], setup['scene'], str(tmp_path / 'm.tif'), setup['ckpt'],
                       polygons=str(tmp_path / f'none.{ext}'), tile=128, overlap=32,
                       window=256, progress=False, backend='torch')
    meta, _, geoms, _ = pyogrio.raw.read(str(tmp_path / f'none.{ext}'))
    assert res.n_polygons == 0 and len(geoms) == 0 and res.landslide_pixels == 0
    if ext == 'gpkg':  # a GeoJSON's fields are those of its features: none here
        assert meta['fields'].tolist() == ['id', 'area', 'n_pixels', 'mean_prob']
    assert (read(tmp_path / 'm.tif')[0] == 0).all()


@pytest.mark.parametrize('ext', ['gpkg', 'geojson'])
def test_polygon_collector_merges_across_blocks_and_streams(tmp_path, ext):
    import pyogrio.raw
    mask = np.array([[1, 1, 0, 0, 0, 0],
                     [0, 1, 1, 1, 0, 0],
                     [0, 0, 0, 1, 0, 1],
                     [0, 0, 0, 1, 0, 0],
                     [1, 0, 0, 0, 0, 0],
                     [1, 0, 0, 0, 0, 1]], np.uint8)
    prob = np.tile(np.arange(6, dtype=np.float32) / 10, (6, 1))  # p = column / 10
    col = PolygonCollector(str(tmp_path / f'inv.{ext}'), 6, 6, SCENE_TRANSFORM, SCENE_CRS.to_wkt(),
                           flush_every=1)
    for r in (0, 3):
        for c in (0, 3):
            col.add_block(mask[r:r + 3, c:c + 3], prob[r:r + 3, c:c + 3], r, c)
    assert col.count >= 1  # finished polygons were streamed out before close()
    assert col.close() == 4
    meta, _, wkb, fields = pyogrio.raw.read(str(tmp_path / f'inv.{ext}'))
    assert CRS.from_user_input(meta['crs']) == SCENE_CRS
    names = meta['fields'].tolist()
    f = {k: fields[names.index(k)] for k in names}
    order = np.argsort(f['n_pixels'], kind='stable')
    assert f['n_pixels'][order].tolist() == [1, 1, 2, 7]
    assert sorted(f['id'].tolist()) == [1, 2, 3, 4]
    big = order[-1]
    # the 7-pixel landslide crosses three blocks: columns 0,1,1,2,3,3,3 -> mean 13/70
    assert f['mean_prob'][big] == pytest.approx(1.3 / 7)
    assert f['area'][big] == pytest.approx(700.0)
    import shapely
    g = shapely.from_wkb(wkb[big])
    assert g.geom_type == 'Polygon' and g.bounds == (500000.0, 4199960.0, 500040.0, 4200000.0)


def test_tool_killed_midway_leaves_no_file(tmp_path, setup):
    import signal
    import time
    from mmengine.config import Config
    cfg_path = tmp_path / 'tiny_cfg.py'
    Config(setup['cfg']).dump(str(cfg_path))
    scene, _ = write_scene(tmp_path / 'big.tif', 1024, 1024)
    out = tmp_path / 'out' / 'mask.tif'
    out.parent.mkdir()
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO)
    proc = subprocess.Popen(
        [sys.executable, osp.join(REPO, 'tools', 'infer_scene.py'), str(cfg_path),
         setup['ckpt'], scene, str(out), '--tile', '64', '--overlap', '16', '--batch', '1',
         '--window', '256', '--no-progress'], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and not _tmp_parts(out.parent):
        time.sleep(0.2)
    parts = _tmp_parts(out.parent)
    assert parts and parts[0].startswith('.mask.tif.lszoo-tmp-')
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode != 0 and os.listdir(out.parent) == []


def _start_tool(tmp_path, setup, out, *extra):
    from mmengine.config import Config
    cfg_path = tmp_path / 'tiny_cfg.py'
    Config(setup['cfg']).dump(str(cfg_path))
    scene, _ = write_scene(tmp_path / 'big.tif', 1024, 1024)
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO)
    # a test run started in the background of a non-interactive shell (`cmd &`, as a CI script
    # may be) inherits SIGINT ignored, and Python then never raises KeyboardInterrupt: the tool
    # gets Ctrl-C's default disposition back, as in a terminal
    return subprocess.Popen(
        [sys.executable, osp.join(REPO, 'tools', 'infer_scene.py'), str(cfg_path),
         setup['ckpt'], scene, str(out), '--tile', '64', '--overlap', '16', '--batch', '1',
         '--window', '256', '--no-progress', *extra], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _tmp_parts(folder):
    """The files in ``folder`` but the output locks (``.NAME.lszoo-lock``), sorted."""
    return sorted(n for n in os.listdir(folder) if not n.endswith('.lszoo-lock'))


def _wait_for_part(proc, folder, old=()):
    import time
    deadline = time.time() + 120
    while time.time() < deadline and not set(_tmp_parts(folder)) - set(old):
        if proc.poll() is not None:
            pytest.fail(proc.communicate()[1][-2000:])
        time.sleep(0.2)
    parts = sorted(set(_tmp_parts(folder)) - set(old))
    assert parts and '.lszoo-tmp-' in parts[0]
    return parts


def test_ctrl_c_is_one_line_and_sigkill_parts_are_cleaned_later(tmp_path, setup):
    import signal
    out = tmp_path / 'out' / 'mask.tif'
    out.parent.mkdir()
    proc = _start_tool(tmp_path, setup, out)
    _wait_for_part(proc, out.parent)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    assert 'Traceback' not in err and 'KeyboardInterrupt' not in err
    assert err.strip().splitlines()[-1].startswith('lszoo: interrupted (Ctrl-C)')
    assert os.listdir(out.parent) == []
    # SIGKILL: no cleanup possible; the part names its dead process and the next run removes it
    proc = _start_tool(tmp_path, setup, out)
    stale = _wait_for_part(proc, out.parent)
    assert stale[0].startswith(f'.mask.tif.lszoo-tmp-{proc.pid}')
    proc.kill()
    proc.communicate(timeout=60)
    proc = _start_tool(tmp_path, setup, out)
    new = _wait_for_part(proc, out.parent, old=stale)
    assert new[0].startswith(f'.mask.tif.lszoo-tmp-{proc.pid}')
    assert stale[0] not in os.listdir(out.parent)  # removed before the new run wrote its own
    proc.kill()
    proc.communicate(timeout=60)


def test_outputs_checked_before_any_work(tmp_path, setup):
    scene, _ = write_scene(tmp_path / 'scene.tif', 64, 64)
    out = str(tmp_path / 'mask.tif')
    with pytest.raises(ConfigError, match=r'OUTPUT and --prob both name'):
        si.map_scene(setup['cfg'], scene, out, setup['ckpt'], prob=out, tile=64, overlap=0,
                  window=256, progress=False)
    link = tmp_path / 'link.tif'
    link.symlink_to(scene)
    with pytest.raises(DataError, match=r'--prob .*link\.tif is the INPUT file .*both '
                                        r'resolve to .*scene\.tif'):
        si.map_scene(setup['cfg'], scene, out, setup['ckpt'], prob=str(link), tile=64,
                     overlap=0, window=256, progress=False)
    assert not os.path.exists(out)
