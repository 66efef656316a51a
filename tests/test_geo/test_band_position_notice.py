"""A scene whose bands have no names is read by position, and says so in one line (issue 24,
silently wrong #2); named bands, or names given with --bands, are matched without a word."""
import warnings
from contextlib import ExitStack

import rasterio
from helpers import run_infer_scene, save_checkpoint, tiny_scene_config, write_scene
from mmengine.config import Config

from lszoo.errors import SceneWarning
from lszoo.geo.reader import SceneReader


def _notes(scene, input_bands=None):
    with warnings.catch_warnings(record=True) as seen, ExitStack() as stack:
        warnings.simplefilter('always')
        SceneReader(stack, scene, None, ['R', 'G', 'B', 'DEM'], 4, input_bands)
    return [str(w.message) for w in seen if issubclass(w.category, SceneWarning)]


def test_bands_by_position_are_named_once(tmp_path):
    scene, _ = write_scene(tmp_path / 'plain.tif', 32, 32, bands=4)
    assert _notes(scene) == [
        f"{scene}: it has no band names, so its 4 band(s) are taken by position as "
        "['R', 'G', 'B', 'DEM']; if they are in another order, name them with --bands "
        "(input_bands=)"]
    assert _notes(scene, ['B', 'G', 'R', 'DEM']) == []
    with rasterio.open(scene, 'r+') as ds:
        ds.descriptions = ('DEM', 'B', 'G', 'R')
    assert _notes(scene) == []
    with rasterio.open(scene, 'r+') as ds:
        ds.descriptions = ('Band 1', 'Band 2', 'Band 3', 'Band 4')
    assert 'its band descriptions' in _notes(scene)[0]


def test_infer_scene_says_it_in_one_line(tmp_path):
    cfg = tmp_path / 'cfg.py'
    Config(tiny_scene_config()).dump(str(cfg))
    ckpt = save_checkpoint(tiny_scene_config(), tmp_path / 'm.pth')
    scene, _ = write_scene(tmp_path / 'plain.tif', 64, 64, bands=4)
    res = run_infer_scene([str(cfg), ckpt, scene, str(tmp_path / 'mask.tif'), '--tile', '64',
                           '--overlap', '0', '--no-progress', '--no-stac'])
    assert res.returncode == 0, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if 'by position' in ln]
    assert len(lines) == 1 and lines[0].startswith('lszoo: warning: ')
