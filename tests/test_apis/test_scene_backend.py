"""The scene-mapping backend (lszoo.apis.scene.backend) and its ONNX graph cache
(lszoo.deploy.onnx_cache): ONNX and PyTorch masks agree, concurrent builders both succeed, a
corrupt entry is rebuilt, the key follows the checkpoint and the tile, and a missing onnxruntime
is an error for --backend onnx and a one-line fallback for auto."""
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest

from helpers import REPO, read, save_checkpoint, tiny_scene_config, write_scene
from lszoo.deploy import onnx_cache

ARGS = ['--tile', '128', '--overlap', '32', '--window', '256', '--no-progress', '--no-stac']


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp('backend')
    cfg = tiny_scene_config(bands=('R', 'G', 'B'),
                            pipeline=[dict(type='NormalizeBands', mode='scale', scale=2.0),
                                      dict(type='PackSegInputs')])
    ckpt = save_checkpoint(cfg, d / 'tiny.pth')
    scene, _ = write_scene(d / 'scene.tif', 300, 420, bands=3)
    cfg_path = str(d / 'tiny_cfg.py')
    from mmengine.config import Config
    Config(cfg).dump(cfg_path)
    return dict(dir=d, cfg=cfg, cfg_path=cfg_path, ckpt=ckpt, scene=scene)


def _start(args, pythonpath=REPO):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=pythonpath)
    return subprocess.Popen([sys.executable, osp.join(REPO, 'tools', 'infer_scene.py'), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _finish(procs):
    return [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in procs]


def _entries(folder):
    return sorted(f for f in os.listdir(folder) if '.onnx' in f)


def test_two_processes_build_one_entry_and_onnx_matches_torch(setup, tmp_path):
    """Two infer_scene --backend onnx runs started together on an uncached checkpoint both
    succeed and leave one valid entry; their masks equal --backend torch's on >= 99.99 %."""
    ckpt = str(tmp_path / 'fresh.pth')
    shutil.copy(setup['ckpt'], ckpt)
    procs = [_start([setup['cfg_path'], ckpt, setup['scene'], str(tmp_path / f'onnx{i}.tif'),
                     '--backend', 'onnx', *ARGS]) for i in (0, 1)]
    torch_run = _finish([_start([setup['cfg_path'], ckpt, setup['scene'],
                                 str(tmp_path / 'torch.tif'), '--backend', 'torch', *ARGS])])
    for rc, out, err in _finish(procs) + torch_run:
        assert rc == 0, err
        assert sum(line.startswith('backend: ') for line in out.splitlines()) == 1, out
        assert '% outside the model' in out
    entries = _entries(tmp_path)
    assert len(entries) == 1 and entries[0].startswith('fresh.pth.'), entries
    key = onnx_cache.cache_key(ckpt, onnx_cache_cfg(setup), 128)
    model, why = onnx_cache.load_entry(str(tmp_path / entries[0]), key, 128)
    assert model is not None, why
    want = read(tmp_path / 'torch.tif')[0]
    for i in (0, 1):
        assert (read(tmp_path / f'onnx{i}.tif')[0] == want).mean() >= 0.9999


def onnx_cache_cfg(setup):
    """The config as map_scene keys it (the one the model was built from)."""
    from lszoo.config import load_config
    return load_config(setup['cfg_path'])


def test_a_corrupt_entry_is_rebuilt_not_used(setup, tmp_path):
    from lszoo.apis.scene import init_scene_model
    ckpt = str(tmp_path / 'c.pth')
    shutil.copy(setup['ckpt'], ckpt)
    model, cfg = init_scene_model(setup['cfg_path'], ckpt)
    lines = []
    first = onnx_cache.cached_tile_model(model, cfg, ckpt, 64, log=lines.append)
    assert first.built and lines == []
    with open(first.path, 'r+b') as f:  # truncated, as by a full disk or a killed copy
        f.truncate(os.path.getsize(first.path) // 2)
    onnx_cache._LOADED.clear()  # a new process: nothing loaded yet
    again = onnx_cache.cached_tile_model(model, cfg, ckpt, 64, log=lines.append)
    assert again.built and again.path == first.path
    assert len(lines) == 1 and 'unusable' in lines[0] and 'rebuilding' in lines[0], lines
    onnx_cache._LOADED.clear()
    third = onnx_cache.cached_tile_model(model, cfg, ckpt, 64, log=lines.append)
    assert not third.built and len(lines) == 1
    assert _entries(tmp_path) == [osp.basename(first.path)]


def test_the_key_follows_checkpoint_tile_and_config(setup, tmp_path):
    cfg = onnx_cache_cfg(setup)
    other = save_checkpoint(setup['cfg'], tmp_path / 'other.pth', seed=1)
    key = onnx_cache.cache_key(setup['ckpt'], cfg, 128)
    assert onnx_cache.cache_key(setup['ckpt'], cfg, 128) == key
    assert onnx_cache.cache_key(other, cfg, 128) != key
    assert onnx_cache.cache_key(setup['ckpt'], cfg, 256) != key
    changed = cfg.copy()
    changed.test_pipeline = [dict(type='NormalizeBands', mode='scale', scale=3.0),
                             dict(type='PackSegInputs')]
    assert onnx_cache.cache_key(setup['ckpt'], changed, 128) != key
    assert onnx_cache.cache_key(setup['ckpt'], cfg, 128, temperature=2.0) != key


def test_an_unwritable_checkpoint_folder_uses_the_cache_folder(setup, tmp_path, monkeypatch):
    monkeypatch.setenv('LSZOO_CACHE', str(tmp_path / 'cache'))
    monkeypatch.setattr(os, 'access', lambda path, mode: False)
    assert onnx_cache.cache_dir(setup['ckpt']) == str(tmp_path / 'cache' / 'onnx')


def test_without_onnxruntime_onnx_errors_and_auto_falls_back(setup, tmp_path):
    shadow = tmp_path / 'shadow' / 'onnxruntime'
    shadow.mkdir(parents=True)
    (shadow / '__init__.py').write_text("raise ImportError('onnxruntime hidden by the test')\n")
    path = os.pathsep.join([str(shadow.parent), REPO])
    procs = [_start([setup['cfg_path'], setup['ckpt'], setup['scene'],
                     str(tmp_path / f'{b}.tif'), '--backend', b, *ARGS], path)
             for b in ('onnx', 'auto')]
    (rc_onnx, out_onnx, err_onnx), (rc_auto, out_auto, err_auto) = _finish(procs)
    errors = [line for line in err_onnx.splitlines() if line.startswith('lszoo: error:')]
    assert rc_onnx != 0 and len(errors) == 1 and 'onnxruntime' in errors[0], err_onnx
    assert 'Traceback' not in err_onnx and not (tmp_path / 'onnx.tif').exists()
    assert rc_auto == 0, err_auto
    lines = [line for line in out_auto.splitlines() if line.startswith('backend: ')]
    assert len(lines) == 1 and lines[0].startswith('backend: torch (ONNX not used:'), out_auto
    assert 'onnxruntime' in lines[0] and (tmp_path / 'auto.tif').is_file()
