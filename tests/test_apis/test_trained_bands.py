"""A checkpoint trained on other bands than the config reads is refused before any work
(issue 24, silently wrong #1): scene inference, the ONNX export, and a real runner checkpoint."""
import pytest
import torch
from helpers import (build_runner, run_tool, save_checkpoint, tiny_scene_config,
                     tiny_train_config, write_scene)
from mmengine.config import Config

from lszoo.apis import map_scene
from lszoo.config.trained_bands import trained_bands
from lszoo.errors import ConfigError
from lszoo.utils.checkpoint import load_checkpoint_file


def _checkpoint_trained_on(tmp_path, bands, **extra):
    """A checkpoint of the R G B DEM scene model whose meta holds a training config (as
    mmengine's Runner stores it: the config's text) reading ``bands``."""
    path = save_checkpoint(tiny_scene_config(), tmp_path / 'model.pth')
    ckpt = torch.load(path, weights_only=True)
    ckpt['meta'] = {'cfg': Config(dict(tiny_scene_config(bands=bands), **extra)).pretty_text}
    torch.save(ckpt, path)
    return path


def _map(tmp_path, checkpoint, cfg=None):
    scene, _ = write_scene(tmp_path / 'scene.tif', 64, 64, bands=4)
    return map_scene(cfg or tiny_scene_config(), scene, str(tmp_path / 'mask.tif'), checkpoint,
                     tile=64, overlap=0, window=256, progress=False, stac=False)


def test_other_bands_refused_before_work(tmp_path):
    ckpt = _checkpoint_trained_on(tmp_path, ('B4', 'B3', 'B2', 'DEM'))
    with pytest.raises(ConfigError) as err:
        _map(tmp_path, ckpt)
    msg = str(err.value)
    assert "['B4', 'B3', 'B2', 'DEM']" in msg and "['R', 'G', 'B', 'DEM']" in msg
    assert 'model.pth' in msg
    assert not (tmp_path / 'mask.tif').exists()


def test_same_bands_and_no_record_are_mapped(tmp_path):
    assert _map(tmp_path, _checkpoint_trained_on(tmp_path, ('R', 'G', 'B', 'DEM'))).n_tiles
    # a checkpoint without a stored config (old, or saved by hand) is not judged
    assert _map(tmp_path, save_checkpoint(tiny_scene_config(), tmp_path / 'bare.pth')).n_tiles


def test_other_stream_layout_refused(tmp_path):
    ckpt = _checkpoint_trained_on(tmp_path, ('R', 'G', 'B', 'DEM'),
                                  stream_layout={'optical': [0, 1, 2], 'topo': [3]})
    cfg = dict(tiny_scene_config(), stream_layout={'optical': [0, 1], 'topo': [2, 3]})
    with pytest.raises(ConfigError, match='stream_layout'):
        _map(tmp_path, ckpt, cfg)


def test_config_text_is_not_executed(tmp_path):
    marker = tmp_path / 'ran'
    text = f"import os\nos.system('touch {marker}')\nbands = ['R', 'G']\nx = open('f')\n"
    assert trained_bands({'meta': {'cfg': text}}) == (['R', 'G'], None)
    assert not marker.exists()


def test_runner_checkpoint_records_its_bands(tmp_path):
    bands = ['R', 'G', 'B', 'DEM', 'slope']
    runner = build_runner(tiny_train_config(tmp_path / 'w', iters=1, bands=bands,
                                            stream_layout={'optical': [0, 1, 2],
                                                           'topo': [3, 4]}))
    runner.train()
    got = trained_bands(load_checkpoint_file(tmp_path / 'w' / 'iter_1.pth'))
    assert got == (bands, {'optical': [0, 1, 2], 'topo': [3, 4]})


def test_export_onnx_refuses_other_bands(tmp_path):
    pytest.importorskip('onnxruntime')
    ckpt = _checkpoint_trained_on(tmp_path, ('B4', 'B3', 'B2', 'DEM'))
    cfg_path = tmp_path / 'cfg.py'
    Config(tiny_scene_config()).dump(str(cfg_path))
    res = run_tool('export_onnx.py', cfg_path, ckpt, tmp_path / 'm.onnx', '--tile', '64')
    assert res.returncode == 2, res.stderr
    assert res.stderr.count('\n') == 1 and 'lszoo: error: checkpoint' in res.stderr
    assert "trained on bands ['B4', 'B3', 'B2', 'DEM']" in res.stderr
    assert not (tmp_path / 'm.onnx').exists()
