"""CONFIG and CHECKPOINT swapped, or an ONNX model given as a checkpoint: one line saying what
the file looks like (issue 24, crashes and misleading messages)."""
import pytest
import torch
from helpers import DEMO_CONFIG, run_tool

from lszoo.config import load_config
from lszoo.errors import CheckpointError, ConfigError
from lszoo.utils.checkpoint import load_checkpoint_file


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp('swapped')
    ckpt = d / 'model.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'meta': {}}, ckpt)
    onnx = d / 'model.onnx'
    onnx.write_bytes(b'\x08\x07\x12\x07pytorch')  # ONNX files are protobufs: no magic number
    return dict(dir=d, ckpt=str(ckpt), onnx=str(onnx))


def test_load_config_names_a_checkpoint_or_onnx_model(files, tmp_path):
    with pytest.raises(ConfigError, match=r'^CONFIG .*model.pth looks like a checkpoint '
                       r'\(PyTorch file\), not a config: the arguments are CONFIG first'):
        load_config(files['ckpt'])
    renamed = tmp_path / 'weights.bin'
    renamed.write_bytes(open(files['ckpt'], 'rb').read())
    with pytest.raises(ConfigError, match='looks like a checkpoint'):
        load_config(str(renamed))
    with pytest.raises(ConfigError, match='looks like an ONNX model, not a config'):
        load_config(files['onnx'])


def test_checkpoint_loader_names_a_config_or_onnx_model(files):
    with pytest.raises(CheckpointError, match=r'^CHECKPOINT .*unet_synthetic.py looks like a '
                       r'config \(.py file\)'):
        load_checkpoint_file(DEMO_CONFIG)
    with pytest.raises(CheckpointError, match=r'model.onnx is an ONNX model, not a PyTorch '
                       r'checkpoint: add --onnx'):
        load_checkpoint_file(files['onnx'])


def _one_error(res):
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith('lszoo: error:')]
    assert res.returncode == 2 and 'Traceback' not in res.stderr, res.stderr[-3000:]
    assert len(errors) == 1
    return errors[0]


@pytest.mark.parametrize('tool', ['train.py', 'test.py', 'export_onnx.py', 'infer_scene.py'])
def test_tools_say_the_arguments_are_swapped(files, tool):
    d = files['dir']
    args = {'train.py': [files['ckpt']],
            'test.py': [files['ckpt'], DEMO_CONFIG],
            'export_onnx.py': [files['ckpt'], DEMO_CONFIG, d / 'o.onnx'],
            'infer_scene.py': [files['ckpt'], DEMO_CONFIG, d / 's.tif', d / 'o.tif']}[tool]
    if tool == 'infer_scene.py':
        from helpers import write_scene
        write_scene(d / 's.tif', 32, 32, bands=5)
    line = _one_error(run_tool(tool, *args))
    assert 'model.pth looks like a checkpoint' in line and 'CONFIG first' in line


def test_infer_scene_onnx_without_flag(files):
    from helpers import write_scene
    d = files['dir']
    scene, _ = write_scene(d / 'scene5.tif', 32, 32, bands=5)
    line = _one_error(run_tool('infer_scene.py', DEMO_CONFIG, files['onnx'], scene,
                               d / 'mask.tif', '--tile', '32', '--overlap', '0'))
    assert 'model.onnx is an ONNX model, not a PyTorch checkpoint: add --onnx' in line
