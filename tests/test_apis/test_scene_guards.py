"""Scene mapping refuses before any work (issue 24): an output with a non-GeoTIFF name (#5),
an output another run is writing (#7)."""
import os
import socket
import subprocess
import sys

import pytest
from helpers import run_infer_scene, save_checkpoint, tiny_scene_config, write_scene
from mmengine.config import Config

from lszoo.apis import map_scene
from lszoo.apis.scene.batch import plan_scenes
from lszoo.errors import ConfigError
from lszoo.utils.output_lock import lock_path

ARGS = ['--tile', '64', '--overlap', '0', '--no-progress']
OPTS = dict(tile=64, overlap=0, window=256, progress=False, stac=False)


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp('guards')
    cfg = d / 'cfg.py'
    Config(tiny_scene_config()).dump(str(cfg))
    ckpt = save_checkpoint(tiny_scene_config(), d / 'm.pth')
    scene, _ = write_scene(d / 'scene.tif', 64, 64)
    return str(cfg), ckpt, scene


@pytest.mark.parametrize('out,prob,key', [('mask.png', None, 'OUTPUT'),
                                          ('mask.tif', 'prob.jpg', '--prob'),
                                          ('mask', None, 'OUTPUT')])
def test_non_geotiff_output_names_are_refused(tmp_path, setup, out, prob, key):
    cfg, ckpt, scene = setup
    prob = prob and str(tmp_path / prob)
    with pytest.raises(ConfigError, match=f'^{key} .*must end in .tif or .tiff'):
        map_scene(cfg, scene, str(tmp_path / out), ckpt, prob=prob, **OPTS)
    assert os.listdir(tmp_path) == []
    assert map_scene(cfg, scene, str(tmp_path / 'MASK.TIFF'), ckpt, **OPTS).n_tiles == 1


def test_many_scenes_check_the_template_up_front(tmp_path, setup):
    with pytest.raises(ConfigError, match='OUTPUT .*scene.png: this output is written as a '
                       'GeoTIFF'):
        plan_scenes([setup[2]], str(tmp_path / '{name}.png'))


def test_second_writer_stops_at_once(tmp_path, setup):
    cfg, ckpt, scene = setup
    out = tmp_path / 'mask.tif'
    other = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])
    try:  # a run holding the lock of the mask (as infer_scene does while it maps)
        with open(lock_path(str(out)), 'w') as f:
            f.write(f'{other.pid} {socket.gethostname()}\n')
        res = run_infer_scene([cfg, ckpt, scene, str(out), *ARGS])
    finally:
        other.kill()
        other.wait()
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith('lszoo: error:')]
    assert res.returncode == 2 and 'Traceback' not in res.stderr
    assert len(errors) == 1 and f'is being written by process {other.pid}' in errors[0]
    assert not out.exists()
    # the holder is gone: the next run takes the lock over, says so once, and removes it
    res = run_infer_scene([cfg, ckpt, scene, str(out), *ARGS])
    assert res.returncode == 0, res.stderr
    notes = [ln for ln in res.stderr.splitlines() if 'took over the lock' in ln]
    assert len(notes) == 1 and notes[0].startswith('lszoo: warning: OUTPUT ')
    assert out.exists() and not os.path.exists(lock_path(str(out)))
