"""A separate DEM must cover the scene and share a CRS with it (issue 24, silently wrong #3 and
#4): no overlap and a scene without a CRS are one error before any tile; a partial cover is one
warning line with the covered share."""
import os
import warnings
from contextlib import ExitStack

import pytest
from helpers import run_infer_scene, save_checkpoint, tiny_scene_config, write_scene
from mmengine.config import Config
from rasterio.transform import from_origin

from lszoo.errors import DataError, SceneWarning
from lszoo.geo.reader import SceneReader

BANDS = ['R', 'G', 'B', 'DEM']


def _reader(scene, dem):
    with ExitStack() as stack:
        return SceneReader(stack, scene, dem, BANDS, 4, ['R', 'G', 'B'])


def _scene(tmp_path, georef=True, transform=None):
    # 120 x 160 pixels of 10 m from (500000, 4200000): x 500000..501600, y 4198800..4200000
    path, _ = write_scene(tmp_path / 'rgb.tif', 120, 160, bands=3, georef=georef,
                          transform=transform)
    return path


def _dem(tmp_path, x0, width_m, name='dem.tif'):
    path, _ = write_scene(tmp_path / name, 48, width_m // 50, bands=1, seed=4,
                          transform=from_origin(x0, 4200000.0, 50.0, 25.0))
    return path


def test_dem_outside_the_scene_is_one_error(tmp_path):
    with pytest.raises(DataError, match=r'the DEM .*dem.tif does not cover scene .*rgb.tif'):
        _reader(_scene(tmp_path), _dem(tmp_path, 600000.0, 800))


def test_dem_covering_half_the_scene_warns_with_the_share(tmp_path):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter('always')
        _reader(_scene(tmp_path), _dem(tmp_path, 500000.0, 800))
    mine = [w for w in seen if issubclass(w.category, SceneWarning)]
    assert len(mine) == 1 and 'covers 50.0% of scene' in str(mine[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter('error', SceneWarning)
        _reader(_scene(tmp_path), _dem(tmp_path, 499800.0, 2000, 'big.tif'))  # all covered


def test_scene_without_crs_is_not_warped_into_the_dem_crs(tmp_path):
    # a transform but no CRS: before, the DEM was warped as if the scene were in its CRS
    scene = tmp_path / 'nocrs.tif'
    import rasterio
    with rasterio.open(_scene(tmp_path)) as src:
        prof, data = src.profile, src.read()
    prof.pop('crs')
    with rasterio.open(scene, 'w', **prof) as dst:
        dst.write(data)
    with pytest.raises(DataError, match=r'scene .*nocrs.tif has no CRS'):
        _reader(str(scene), _dem(tmp_path, 499800.0, 2000))


def test_infer_scene_prints_one_warning_line_and_refuses_no_overlap(tmp_path):
    cfg = tmp_path / 'cfg.py'
    Config(tiny_scene_config()).dump(str(cfg))
    ckpt = save_checkpoint(tiny_scene_config(), tmp_path / 'm.pth')
    scene = _scene(tmp_path)
    common = ['--tile', '64', '--overlap', '0', '--window', '256', '--no-progress', '--no-stac',
              '--bands', 'R', 'G', 'B']
    res = run_infer_scene([str(cfg), ckpt, scene, str(tmp_path / 'mask.tif'), '--dem',
                           _dem(tmp_path, 500000.0, 800), *common])
    assert res.returncode == 0, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if 'DEM' in ln]
    assert len(lines) == 1 and lines[0].startswith('lszoo: warning: the DEM ')
    assert 'covers 50.0% of scene' in lines[0]
    res = run_infer_scene([str(cfg), ckpt, scene, str(tmp_path / 'mask2.tif'), '--dem',
                           _dem(tmp_path, 600000.0, 800, 'far.tif'), *common])
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith('lszoo: error:')]
    assert res.returncode == 2 and 'Traceback' not in res.stderr
    assert len(errors) == 1 and errors[0].startswith('lszoo: error: the DEM ')
    assert 'does not cover scene' in errors[0]
    assert not os.path.exists(tmp_path / 'mask2.tif')
