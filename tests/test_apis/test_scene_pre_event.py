"""Scene mapping of a pre/post pair (``infer_scene --pre``, ``map_scene(pre=...)``).

A random-weight FC-Siam-diff (the demo config's lcnet_050 encoder) on a small post-event scene
in UTM and its pre-event image in EPSG:4326 at another resolution.
"""
import json
import os
import tracemalloc

import pytest
import rasterio
from rasterio.transform import from_origin

from helpers import (CHANGE_CONFIG, SCENE_CRS, load_script, read, save_change_checkpoint,
                     write_change_pair, write_scene)
from lszoo.apis import scene as si
from lszoo.errors import ConfigError, DataError, SceneWarning

OPTS = dict(tile=128, overlap=32, window=256, progress=False)


@pytest.fixture(scope='module')
def pair(tmp_path_factory):
    d = tmp_path_factory.mktemp('pair')
    paths = write_change_pair(d)
    paths['ckpt'], _ = save_change_checkpoint(CHANGE_CONFIG, paths, d / 'fc_siam.pth')
    return paths


def _tool(argv, capsys):
    code = load_script('tools/infer_scene.py').main(argv)
    return code, capsys.readouterr()


def test_pre_in_another_crs_and_resolution_matches_prealigned_pair(tmp_path, pair, capsys):
    with rasterio.open(pair['pre']) as pre:
        assert pre.crs.to_epsg() == 4326 and pre.res[0] < 1e-4  # degrees, not 10 m
    out = tmp_path / 'mask.tif'
    code, cap = _tool([CHANGE_CONFIG, pair['ckpt'], pair['post'], str(out), '--pre',
                       pair['pre'], '--tile', '128', '--overlap', '32', '--window', '256',
                       '--no-progress', '--prob', str(tmp_path / 'prob.tif')], capsys)
    assert code == 0, cap.err
    ref = si.map_scene(CHANGE_CONFIG, pair['post'], str(tmp_path / 'ref.tif'), pair['ckpt'],
                       pre=pair['aligned'], **OPTS)
    got, prof = read(out)
    want, _ = read(tmp_path / 'ref.tif')
    assert prof['crs'] == SCENE_CRS and got.shape == want.shape == (192, 256)
    assert 0.05 < (want == 1).mean() < 0.95  # both classes: the comparison means something
    assert (got == want).mean() >= 0.999, (got != want).sum()
    assert ref.landslide_pixels == int((want == 1).sum())
    item = json.loads((tmp_path / 'mask.stac.json').read_text())
    inputs = {link['title']: link['href'] for link in item['links']
              if link['rel'] == 'derived_from'}
    assert inputs == {'Post-event image': os.path.relpath(pair['post'], tmp_path),
                      'Pre-event image': os.path.relpath(pair['pre'], tmp_path)}
    assert item['properties']['lszoo:inputs'] == {'post': 'post.tif', 'pre': 'pre.tif'}
    assert 'against the pre-event image pre.tif' in item['properties']['processing:lineage']


def test_pixels_missing_in_the_pre_image_are_nodata(tmp_path, pair):
    # a pre image covering the west half of the post scene only (x < 501280 m)
    with rasterio.open(pair['aligned']) as src:
        data, profile = src.read(window=((0, 192), (0, 128))), src.profile
    profile.update(width=128)
    half = tmp_path / 'pre_half.tif'
    with rasterio.open(half, 'w', **profile) as dst:
        dst.write(data)
    with pytest.warns(SceneWarning, match=r'pre-event image .*pre_half\.tif covers 50\.0%'):
        si.map_scene(CHANGE_CONFIG, pair['post'], str(tmp_path / 'm.tif'), pair['ckpt'],
                     pre=str(half), **OPTS)
    mask, prof = read(tmp_path / 'm.tif')
    assert prof['nodata'] == 255
    assert (mask[:, :127] != 255).all() and (mask[:, 129:] == 255).all()


def _bad_inputs(tmp_path, pair):
    """(arguments, what the error names) of each bad input."""
    far = from_origin(900000.0, 4200000.0, 10.0, 10.0)
    away, _ = write_scene(tmp_path / 'away.tif', 64, 64, bands=3, transform=far)
    four, _ = write_scene(tmp_path / 'four.tif', 192, 256, bands=4)
    named = {}
    for name, order in (('post_rgb.tif', ('R', 'G', 'B')), ('pre_bgr.tif', ('B', 'G', 'R'))):
        path, _ = write_scene(tmp_path / name, 192, 256, bands=3)
        with rasterio.open(path, 'r+') as ds:
            ds.descriptions = order
        named[name] = path
    single = tmp_path / 'single.py'
    single.write_text("_base_ = ['%s']\n" % CHANGE_CONFIG.replace(
        'fc_siam_diff_synthetic.py', 'change_post_only_unet_synthetic.py'))
    return [
        ([CHANGE_CONFIG, pair['ckpt'], pair['post'], '--pre', away],
         r'the pre-event image .*away\.tif does not cover scene .*post\.tif'),
        ([CHANGE_CONFIG, pair['ckpt'], pair['post'], '--pre', four],
         r'pre-event image .*four\.tif has 4 band\(s\), the post-event image .*post\.tif has 3'),
        ([CHANGE_CONFIG, pair['ckpt'], named['post_rgb.tif'], '--pre', named['pre_bgr.tif']],
         r"pre-event image .*pre_bgr\.tif has bands \['B', 'G', 'R'\], the post-event image "
         r".*post_rgb\.tif has \['R', 'G', 'B'\]"),
        ([CHANGE_CONFIG, pair['ckpt'], pair['post']],
         r'fc_siam_diff_synthetic\.py is a bi-temporal .*pre-event image .*--pre'),
        ([str(single), pair['ckpt'], pair['post'], '--pre', pair['pre']],
         r'--pre .*pre\.tif given, but config .*single\.py is a single-date model'),
    ]


def test_bad_pairs_are_one_error_before_any_work(tmp_path, pair, capsys):
    import re
    for args, names in _bad_inputs(tmp_path, pair):
        out = tmp_path / 'out'
        out.mkdir()
        argv = args[:3] + [str(out / 'mask.tif')] + args[3:] + [
            '--prob', str(out / 'p.tif'), '--polygons', str(out / 'p.gpkg'), '--no-progress']
        code, cap = _tool(argv, capsys)
        errors = [line for line in cap.err.splitlines() if line.startswith('lszoo: error:')]
        assert code != 0 and len(errors) == 1, (args, cap.err)
        assert re.search(names, errors[0]), (names, errors[0])
        assert os.listdir(out) == [], (args, os.listdir(out))  # nothing written
        out.rmdir()
    # the same checks through the API, with their types
    with pytest.raises(ConfigError, match='bi-temporal'):
        si.map_scene(CHANGE_CONFIG, pair['post'], str(tmp_path / 'x.tif'), pair['ckpt'],
                     **OPTS)
    with pytest.raises(DataError, match='does not cover'):
        si.map_scene(CHANGE_CONFIG, pair['post'], str(tmp_path / 'x.tif'), pair['ckpt'],
                     pre=str(tmp_path / 'away.tif'), **OPTS)


def test_peak_memory_flat_in_scene_size(tmp_path, pair):
    """tracemalloc (numpy buffers are traced), as the GVLM converter's memory test: mapping a
    pair 4x taller with the pre image warped per window peaks at about the same memory."""
    from lszoo.apis.scene.predictor import init_scene_model
    model, cfg = init_scene_model(CHANGE_CONFIG, pair['ckpt'])
    peaks = {}
    for h in (256, 1024):
        (tmp_path / f'h{h}').mkdir()
        paths = write_change_pair(tmp_path / f'h{h}', h=h, w=128, seed=1)
        tracemalloc.start()
        si.map_scene(model, paths['post'], str(tmp_path / f'h{h}' / 'm.tif'), cfg=cfg,
                     pre=paths['pre'], tile=128, overlap=0, window=256, progress=False,
                     stac=False)
        peaks[h] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    # a 1024 x 128 pair of 6 float32 channels is 3 MB: the peak stays a few windows' worth
    assert peaks[1024] < 1.3 * peaks[256] + 100_000, peaks
    assert peaks[1024] < 1024 * 128 * 6 * 4, peaks
