"""Safe checkpoint loading: crafted pickles are refused on every lszoo load path (issue 8).

The runs use :func:`helpers.tiny_train_config` (a 2-stage mmseg UNet on 32 px synthetic scenes).
"""
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import REPO, build_runner, tiny_train_config
import lszoo  # noqa: F401  (installs the safe loader)
from lszoo.engine.checkpoint import (checkpoint_safe_globals, is_checkpoint_trusted,
                                     load_checkpoint_file, set_trust_checkpoint)
from lszoo.errors import CheckpointError

class CodeRunner:
    """Unpickling this runs a shell command (the classic malicious-checkpoint payload)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


@pytest.fixture(autouse=True)
def _untrusted():
    set_trust_checkpoint(False)
    yield
    set_trust_checkpoint(False)


@pytest.fixture(scope='module')
def real_checkpoint(tmp_path_factory):
    """A checkpoint written by mmengine's runner after 2 iterations of the tiny config."""
    work_dir = tmp_path_factory.mktemp('real_ckpt')
    build_runner(tiny_train_config(work_dir, iters=2, interval=2)).train()
    path = work_dir / 'iter_2.pth'
    assert path.is_file()
    return path


@pytest.fixture
def evil_checkpoint(real_checkpoint, tmp_path):
    """The real checkpoint plus one object whose unpickling creates ``marker``."""
    marker = tmp_path / 'PWNED'
    ckpt = torch.load(real_checkpoint, weights_only=False)
    ckpt['meta']['payload'] = CodeRunner(marker)
    path = tmp_path / 'evil.pth'
    torch.save(ckpt, path)
    assert not marker.exists()
    return path, marker


# ------------------------------------------------------------------ the allow-list


def test_real_runner_checkpoint_loads_and_needs_the_allow_list(real_checkpoint):
    # plain weights_only loading refuses mmengine's own checkpoints (HistoryBuffer, numpy) ...
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        torch.load(real_checkpoint, weights_only=True)
    # ... the lszoo loader reads them in full
    ckpt = load_checkpoint_file(real_checkpoint)
    assert set(ckpt) >= {'meta', 'state_dict', 'message_hub', 'optimizer'}
    assert ckpt['meta']['iter'] == 2
    buf = ckpt['message_hub']['log_scalars']['train/loss']
    assert np.isfinite(buf.mean())
    assert set(buf._statistics_methods) >= {'min', 'max', 'mean', 'current'}
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values())


def test_allow_list_is_narrow():
    names = {f'{g.__module__}.{g.__qualname__}' if not isinstance(g, tuple) else g[1]
             for g in checkpoint_safe_globals()}
    assert 'builtins.getattr' in names  # only as the HistoryBuffer-restricted stand-in
    assert getattr not in checkpoint_safe_globals()
    for dangerous in ('builtins.eval', 'builtins.exec', 'posix.system', 'os.system',
                      'subprocess.Popen', 'builtins.__import__'):
        assert dangerous not in names


def test_getattr_is_limited_to_history_buffer_statistics(tmp_path):
    from mmengine.logging.history_buffer import HistoryBuffer

    class Sneaky:
        def __reduce__(self):
            return (getattr, (HistoryBuffer, '__init__'))

    path = tmp_path / 'sneaky.pth'
    torch.save({'x': Sneaky()}, path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint_file(path)
    assert str(path) in str(err.value) and "'__init__'" in str(err.value)


def test_numpy1_module_names_are_accepted(tmp_path):
    """Checkpoints written under numpy 1.x name ``numpy.core.multiarray`` (no underscore)."""
    src = tmp_path / 'np2.pth'
    torch.save({'a': np.arange(3.0), 'b': np.float64(2.5)}, src)
    dst = tmp_path / 'np1.pth'
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w') as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.endswith('data.pkl'):
                assert b'numpy._core.multiarray' in data
                data = data.replace(b'numpy._core.multiarray', b'numpy.core.multiarray')
            zout.writestr(item, data)
    ckpt = load_checkpoint_file(dst)
    assert ckpt['a'].tolist() == [0.0, 1.0, 2.0] and float(ckpt['b']) == 2.5


# ------------------------------------------------------------------ refusals


def test_code_running_checkpoint_is_refused(evil_checkpoint):
    path, marker = evil_checkpoint
    with pytest.raises(CheckpointError) as err:
        load_checkpoint_file(path)
    msg = str(err.value)
    assert str(path) in msg and 'posix.system' in msg and '--trust-checkpoint' in msg
    assert not marker.exists()


@pytest.mark.parametrize('content, expected', [
    (b'', 'is empty'),
    (b'hello, this is not a checkpoint', 'is not a PyTorch checkpoint'),
    (b'PK\x03\x04 truncated zip', 'is not a PyTorch checkpoint'),
])
def test_not_a_checkpoint(tmp_path, content, expected):
    path = tmp_path / 'bad.pth'
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=expected) as err:
        load_checkpoint_file(path)
    assert str(path) in str(err.value)


def test_missing_and_non_mapping(tmp_path):
    with pytest.raises(CheckpointError, match='does not exist'):
        load_checkpoint_file(tmp_path / 'nope.pth')
    with pytest.raises(CheckpointError, match='is not a file'):
        load_checkpoint_file(tmp_path)
    torch.save(torch.zeros(2), tmp_path / 't.pth')
    with pytest.raises(CheckpointError, match='holds a Tensor, not a checkpoint dict'):
        load_checkpoint_file(tmp_path / 't.pth')


def test_mmengine_loaders_go_through_lszoo(evil_checkpoint):
    """``CheckpointLoader`` (load_from, resume, Pretrained init) and ``_safe_torch_load`` no
    longer fall back to ``weights_only=False``."""
    from mmengine.runner import checkpoint as mm_ckpt
    path, marker = evil_checkpoint
    with pytest.raises(CheckpointError, match='posix.system'):
        mm_ckpt.CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    with pytest.raises(CheckpointError, match='posix.system'):
        mm_ckpt._safe_torch_load(str(path), map_location='cpu')
    with pytest.raises(CheckpointError, match='posix.system'):
        mm_ckpt.load_checkpoint(torch.nn.Linear(2, 2), str(path))
    assert not marker.exists()


def test_pretrained_init_cfg_is_refused(evil_checkpoint):
    from mmseg.registry import MODELS
    path, marker = evil_checkpoint
    backbone = MODELS.build(dict(type='UNet', in_channels=5, base_channels=4, num_stages=2,
                                 strides=(1, 1), enc_num_convs=(1, 1), dec_num_convs=(1, ),
                                 downsamples=(True, ), enc_dilations=(1, 1),
                                 dec_dilations=(1, ),
                                 init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    with pytest.raises(CheckpointError, match='posix.system'):
        backbone.init_weights()
    assert not marker.exists()


@pytest.mark.parametrize('loader', ['load_weights', 'convnextv2', 'dual_stream_timm'])
def test_lszoo_own_loaders_refuse(evil_checkpoint, loader):
    """Scene inference and the encoders' ``checkpoint=`` files use the same safe loader."""
    from mmseg.registry import MODELS
    path, marker = evil_checkpoint
    with pytest.raises(CheckpointError, match='posix.system'):
        if loader == 'load_weights':  # scene inference's loader
            from lszoo.utils.checkpoint import load_weights
            load_weights(torch.nn.Linear(2, 2), str(path), 'a linear layer')
        elif loader == 'convnextv2':
            MODELS.build(dict(type='ConvNeXtV2Encoder', arch='atto', checkpoint=str(path)))
        else:
            MODELS.build(dict(type='DualStreamTimmEncoder', model_name='resnet18',
                              checkpoint=str(path)))
    assert not marker.exists()


@pytest.mark.parametrize('resume', [False, True])
def test_load_from_and_resume_refuse(evil_checkpoint, tmp_path, resume):
    path, marker = evil_checkpoint
    runner = build_runner(tiny_train_config(tmp_path / 'work', iters=1, load_from=str(path),
                                      resume=resume))
    with pytest.raises(CheckpointError) as err:
        runner.train()
    assert str(path) in str(err.value) and 'posix.system' in str(err.value)
    assert not marker.exists()
    assert not (tmp_path / 'work' / 'iter_1.pth').exists()  # no training happened


def test_load_from_with_trust_loads_and_warns(evil_checkpoint, tmp_path):
    path, marker = evil_checkpoint
    set_trust_checkpoint(True)
    assert is_checkpoint_trusted()
    frozen = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.0))
    runner = build_runner(tiny_train_config(tmp_path / 'work', iters=1, load_from=str(path),
                                      optim_wrapper=frozen))
    fresh = {k: v.clone() for k, v in runner.model.state_dict().items()}
    with pytest.warns(UserWarning, match='can run arbitrary code'):
        runner.train()
    assert marker.exists()  # the opt-in really unpickles everything
    # lr 0: the trained weights are exactly the checkpoint's, which differ from a fresh init
    state = torch.load(path, weights_only=False)['state_dict']
    params = dict(runner.model.named_parameters())
    assert all(torch.equal(params[k].detach(), state[k]) for k in params)
    assert any(not torch.equal(fresh[k], state[k]) for k in params)


# ------------------------------------------------------------------ tools/test.py


def _tools_test_cmd(cfg_path, ckpt, *extra):
    return [sys.executable, str(Path(REPO, 'tools', 'test.py')), str(cfg_path), str(ckpt), *extra]


@pytest.mark.skipif(not (Path(REPO, 'tools', 'test.py')).exists(), reason='tools/test.py not there')
def test_tools_test_refuses_then_trusts(evil_checkpoint, real_checkpoint, tmp_path):
    from mmengine.config import Config
    path, marker = evil_checkpoint
    # a second copy with its own marker, so both runs can go at once
    marker2 = tmp_path / 'PWNED_TRUSTED'
    ckpt = torch.load(real_checkpoint, weights_only=False)
    ckpt['meta']['payload'] = CodeRunner(marker2)
    path2 = tmp_path / 'evil_trusted.pth'
    torch.save(ckpt, path2)
    cfg_path = tmp_path / 'tiny_cfg.py'
    Config(tiny_train_config(tmp_path / 'work')).dump(str(cfg_path))
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    runs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=REPO, env=env)
            for cmd in (_tools_test_cmd(cfg_path, path, '--work-dir', tmp_path / 'w1'),
                        _tools_test_cmd(cfg_path, path2, '--work-dir', tmp_path / 'w2',
                                        '--trust-checkpoint'))]
    (_, refused_err), (_, trusted_err) = [p.communicate(timeout=300) for p in runs]
    assert runs[0].returncode == 2
    assert 'posix.system' in refused_err and str(path) in refused_err
    assert 'Traceback' not in refused_err
    assert not marker.exists()
    assert runs[1].returncode == 0, trusted_err[-3000:]
    assert 'arbitrary code' in trusted_err
    assert marker2.exists()
