"""An interrupted run resumed with ``--resume`` ends with exactly the weights of an uninterrupted
run with the same seed (same data order, same augmentation draws, restored optimizer state)."""
import os

import torch
from helpers import FIXTURES, REPO, run_tool

from lszoo.engine.checkpoint import load_checkpoint_file



def _config(tiny_config, name, work):
    # 4 iterations of batch 2 over 4 scenes: the sampler reshuffles for the second pass, and
    # random crops and flips draw new numbers each batch; checkpoint every 2 iterations
    return tiny_config(name=name, work_dir=work, iters=4, options={
        'custom_imports': dict(imports=['lszoo', 'interrupt_hook'], allow_failed_imports=False),
        'custom_hooks': [dict(type='IterationSeedHook'), dict(type='FixtureInterruptHook')],
        'default_hooks.checkpoint.interval': 2,
        'default_hooks.checkpoint.max_keep_ckpts': 3,
        'test_after_train': False,
        'log_level': 'INFO',
    })


def test_resume_matches_uninterrupted_run(tiny_config, tmp_path):
    env = {'PYTHONPATH': os.pathsep.join([FIXTURES, REPO])}  # this tree's lszoo, not an install
    full_dir, cut_dir = tmp_path / 'full', tmp_path / 'cut'
    full_cfg = _config(tiny_config, 'full.py', full_dir)
    cut_cfg = _config(tiny_config, 'cut.py', cut_dir)

    res = run_tool('train.py', full_cfg, env=env)
    assert res.returncode == 0, res.stderr[-3000:]

    res = run_tool('train.py', cut_cfg, env={**env, 'LSZOO_TEST_INTERRUPT_AT': '2'})
    assert res.returncode == 17, res.stderr[-3000:]
    assert (cut_dir / 'iter_2.pth').is_file() and not (cut_dir / 'iter_4.pth').exists()

    res = run_tool('train.py', cut_cfg, '--resume', env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    log = res.stdout + res.stderr
    assert 'resumed' in log.lower() and 'iter_2.pth' in log
    assert 'Advance dataloader 2 steps' in log

    full = load_checkpoint_file(full_dir / 'iter_4.pth')
    resumed = load_checkpoint_file(cut_dir / 'iter_4.pth')
    half = load_checkpoint_file(full_dir / 'iter_2.pth')
    assert full['meta']['iter'] == resumed['meta']['iter'] == 4
    assert full['state_dict'].keys() == resumed['state_dict'].keys()
    for key, value in full['state_dict'].items():
        assert torch.equal(value, resumed['state_dict'][key]), key
    # iterations 3-4 changed the weights, so the equality above is not trivial
    changed = [k for k, v in half['state_dict'].items()
               if v.is_floating_point() and not torch.equal(v, full['state_dict'][k])]
    assert len(changed) > 10
    # the optimizer state continues as well
    for a, b in zip(full['optimizer']['state'].values(), resumed['optimizer']['state'].values()):
        assert torch.equal(a['exp_avg'], b['exp_avg']) and torch.equal(a['step'], b['step'])
