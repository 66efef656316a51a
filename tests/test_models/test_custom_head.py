"""A head defined in the user's own module (tests/fixtures/my_landslide_heads.py, outside lszoo)
is registered through ``custom_imports`` and trained for one step with tools/train.py."""
import os
import subprocess
import sys

import torch
from helpers import FIXTURES, REPO, run_tool

from lszoo.engine.checkpoint import load_checkpoint_file

HEAD = dict(_delete_=True, type='MyLandslideHead', in_channels=16, in_index=4, channels=8,
            num_classes=2, out_channels=1, threshold=0.5, dropout_ratio=0.0,
            loss_decode=dict(type='BinaryDiceLoss', loss_weight=1.0))


def test_head_from_own_module_trains_one_step(tiny_config, tmp_path):
    work = tmp_path / 'work_dir'
    cfg = tiny_config(iters=1, work_dir=work, options={
        'custom_imports': dict(imports=['lszoo', 'my_landslide_heads'],
                               allow_failed_imports=False),
        'model.decode_head': HEAD,
        'test_after_train': False,
        'default_hooks.checkpoint.interval': 1,
    })
    res = run_tool('train.py', cfg, env={'PYTHONPATH': os.pathsep.join([FIXTURES, REPO])})
    assert res.returncode == 0, res.stderr[-3000:]
    state = load_checkpoint_file(work / 'iter_1.pth')['state_dict']
    # the head's own layers were built, trained and saved
    assert state['decode_head.body.0.weight'].shape == (8, 16, 3, 3)
    assert state['decode_head.body.2.weight'].shape == (8, 8, 3, 3)
    assert state['decode_head.conv_seg.weight'].shape == (1, 8, 1, 1)
    assert torch.isfinite(state['decode_head.body.0.weight']).all()


def test_missing_custom_module_is_a_clear_error(tiny_config):
    cfg = tiny_config(options={'custom_imports': dict(imports=['lszoo', 'no_such_heads_module'],
                                                      allow_failed_imports=False)})
    res = run_tool('train.py', cfg)
    assert res.returncode == 2
    assert 'no_such_heads_module' in res.stderr and 'custom_imports' in res.stderr
    assert 'Traceback' not in res.stderr


def test_head_is_unknown_without_the_import():
    # in a fresh interpreter, lszoo alone does not know the user's head
    code = ('import lszoo; from mmseg.registry import MODELS; '
            'print(MODELS.get("MyLandslideHead") is None)')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         cwd=REPO, timeout=300)
    assert out.stdout.strip().splitlines()[-1] == 'True', out.stderr[-2000:]
