"""Shared pytest fixtures for lszoo's tests.

Helpers that tests import (paths, ``run_tool``, tiny configs) are in ``helpers.py``.
Tests run on a CPU, often beside other jobs: torch is limited to one thread (several OpenMP
threads on a busy 2-core machine are many times slower than one), and the command-line tools are
run as subprocesses with the same limit.
"""
import os
import os.path as osp

import pytest

os.environ.setdefault('OMP_NUM_THREADS', '1')
os.environ.setdefault('MKL_NUM_THREADS', '1')

import torch  # noqa: E402
from helpers import DEMO_CONFIG, REALDATA, REPO  # noqa: E402

torch.set_num_threads(int(os.environ['OMP_NUM_THREADS']))


@pytest.fixture(autouse=True)
def mmseg_default_scope():
    """Start every test in mmseg's registry scope.

    A runner built by an earlier test (e.g. a stock-mmengine control run) leaves its own default
    scope current, and modules built directly (a decode head building its default loss) would
    then look in the wrong registry: the outcome of a test must not depend on the tests before it.
    """
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')


@pytest.fixture(scope='session')
def repo_root() -> str:
    """Absolute path of the repository root."""
    return REPO


@pytest.fixture(scope='session')
def realdata_root() -> str:
    """``../shared/realdata`` beside the repository; the test is skipped when it is absent."""
    if not osp.isdir(REALDATA):
        pytest.skip('real sample files (../shared/realdata) are not available')
    return REALDATA


@pytest.fixture(scope='module')
def ssl4eo_file(tmp_path_factory):
    """A state dict in the published SSL4EO-S12 format (torchgeo's timm ResNet-18: 13 Sentinel-2
    input bands, ImageNet-style ``fc``), random tensors saved locally: ``(path, state)``."""
    import timm
    torch.manual_seed(0)
    state = timm.create_model('resnet18', in_chans=13, num_classes=1000).state_dict()
    path = tmp_path_factory.mktemp('eo') / 'resnet18_sentinel2_all_moco.pth'
    torch.save(state, path)
    return path, state


@pytest.fixture
def tiny_config(tmp_path):
    """Factory: ``tiny_config(config=DEMO_CONFIG, **shrink_kwargs)`` dumps a shrunk copy of a
    config (see :func:`lszoo.testing.shrink_config`) to ``tmp_path`` and returns its path; the
    work dir is ``tmp_path / 'work_dir'`` unless ``work_dir`` is given."""
    from lszoo.testing import shrink_config

    def make(config: str = DEMO_CONFIG, name: str = 'tiny.py', options: dict = None, **kwargs):
        kwargs.setdefault('work_dir', tmp_path / 'work_dir')
        cfg = shrink_config(config, **kwargs)
        if options:
            cfg.merge_from_dict(options)
        path = tmp_path / name
        cfg.dump(str(path))
        return str(path)

    return make
