"""A scene whose tiles are missing (a truncated COG: header readable, data cut off) stops
mapping with one error naming the file, the window and 'the file is damaged or incomplete'
(issue 24, crashes)."""
import os
from contextlib import ExitStack

import pytest
from helpers import run_infer_scene, save_checkpoint, tiny_scene_config, write_scene
from mmengine.config import Config
from rasterio.shutil import copy

from lszoo.errors import DataError
from lszoo.geo.reader import SceneReader


@pytest.fixture
def truncated(tmp_path):
    src, _ = write_scene(tmp_path / 'src.tif', 512, 512, bands=4)
    path = str(tmp_path / 'cut.tif')
    copy(src, path, driver='COG', blocksize=128, compress='deflate', overviews='none')
    with open(path, 'r+b') as f:
        f.truncate(int(os.path.getsize(path) * 0.6))
    return path


def test_window_read_names_file_and_window(truncated):
    with ExitStack() as stack:
        reader = SceneReader(stack, truncated, None, ['R', 'G', 'B', 'DEM'], 4,
                             ['R', 'G', 'B', 'DEM'])
        assert reader.read(0, 128, 0, 128).shape == (4, 128, 128)  # the part still there
        with pytest.raises(DataError) as err:
            reader.read(384, 512, 384, 512)
    msg = str(err.value)
    assert msg.startswith(f'{truncated}: reading rows 384:512, columns 384:512 failed (')
    assert msg.endswith('the file is damaged or incomplete') and 'IReadBlock' in msg


@pytest.mark.parametrize('prefetch', ['0', '1'])
def test_infer_scene_is_one_error_line(tmp_path, truncated, prefetch):
    cfg = tmp_path / 'cfg.py'
    Config(tiny_scene_config()).dump(str(cfg))
    ckpt = save_checkpoint(tiny_scene_config(), tmp_path / 'm.pth')
    res = run_infer_scene([str(cfg), ckpt, truncated, str(tmp_path / 'mask.tif'), '--tile',
                           '128', '--overlap', '0', '--window', '256', '--no-progress',
                           '--bands', 'R', 'G', 'B', 'DEM', '--prefetch', prefetch])
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith('lszoo: error:')]
    assert res.returncode == 2 and 'Traceback' not in res.stderr, res.stderr[-3000:]
    assert len(errors) == 1 and truncated in errors[0]
    assert 'the file is damaged or incomplete' in errors[0]
    assert not os.path.exists(tmp_path / 'mask.tif')
