"""Non-finite losses: training stops (or skips the step) and the last good checkpoint is kept."""
import math

import pytest
import torch
from torch import nn

import lszoo  # noqa: F401
from lszoo.engine.checkpoint import load_checkpoint_file
from lszoo.engine.hooks.nonfinite_loss import (NonFiniteLossError, NonFiniteLossHook,
                                               nonfinite_terms)
from lszoo.errors import LSZooError
from mmseg.registry import MODELS

from helpers import build_runner, tiny_train_config


@MODELS.register_module(force=True)
class LSZooTestNaNLoss(nn.Module):
    """A small finite loss that turns NaN at chosen (1-based) training iterations."""

    def __init__(self, nan_at=(), nan_from=None, loss_name='loss_nan', loss_weight=1.0):
        super().__init__()
        self.nan_at, self.nan_from, self._loss_name = tuple(nan_at), nan_from, loss_name
        self.calls = 0

    def forward(self, seg_logits, seg_label, weight=None, ignore_index=255, **kwargs):
        self.calls += 1
        loss = 0.1 * seg_logits.float().pow(2).mean()
        if self.calls in self.nan_at or (self.nan_from and self.calls >= self.nan_from):
            loss = loss * float('nan')
        return loss

    @property
    def loss_name(self):
        return self._loss_name


def nan_config(work_dir, iters, interval, **nan_kwargs):
    losses = [dict(type='CrossEntropyLoss', loss_weight=1.0, loss_name='loss_ce'),
              dict(type='LSZooTestNaNLoss', **nan_kwargs)]
    return tiny_train_config(work_dir, iters=iters, interval=interval, loss_decode=losses)


def test_nan_loss_stops_with_message_and_keeps_last_good_checkpoint(tmp_path):
    runner = build_runner(nan_config(tmp_path, iters=6, interval=2, nan_from=3))
    with pytest.raises(NonFiniteLossError) as err:
        runner.train()
    msg = str(err.value)
    assert isinstance(err.value, LSZooError)  # tools print it without a traceback
    assert 'non-finite loss at iteration 3' in msg
    assert 'loss_nan=nan' in msg and 'loss_ce=' in msg.split('finite:')[1]
    assert 'optimizer step was not taken' in msg
    files = sorted(p.name for p in tmp_path.glob('*.pth'))
    assert files == ['iter_2.pth']
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'iter_2.pth')
    ckpt = load_checkpoint_file(tmp_path / 'iter_2.pth')
    assert ckpt['meta']['iter'] == 2
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values())
    # the NaN step was not taken: the weights are still exactly those of iteration 2
    for name, p in runner.model.named_parameters():
        assert torch.equal(p.detach(), ckpt['state_dict'][name]), name


def test_control_without_the_hook_nan_weights_reach_the_checkpoint(tmp_path):
    """What the hook prevents: stock mmengine trains on and saves NaN weights."""
    cfg = nan_config(tmp_path, iters=4, interval=2, nan_from=3)
    cfg['runner_type'] = 'Runner'
    build_runner(cfg).train()
    state = load_checkpoint_file(tmp_path / 'iter_4.pth')['state_dict']
    assert not all(torch.isfinite(v).all() for v in state.values())


def test_skip_drops_the_step_and_training_goes_on(tmp_path):
    cfg = nan_config(tmp_path, iters=4, interval=4, nan_at=(2, ))
    cfg['custom_hooks'] = [dict(type='NonFiniteLossHook', action='skip')]
    runner = build_runner(cfg)
    hooks = [h for h in runner.hooks if isinstance(h, NonFiniteLossHook)]
    assert len(hooks) == 1 and hooks[0].action == 'skip'  # the runner did not add another
    runner.train()
    assert hooks[0].skipped_iters == [2]
    assert runner.iter == 4
    state = load_checkpoint_file(tmp_path / 'iter_4.pth')['state_dict']
    assert all(torch.isfinite(v).all() for v in state.values())


def test_skip_gives_up_after_max_skips_in_a_row(tmp_path):
    cfg = nan_config(tmp_path, iters=6, interval=6, nan_from=2)
    cfg['custom_hooks'] = [dict(type='NonFiniteLossHook', action='skip', max_skips=1)]
    with pytest.raises(NonFiniteLossError, match=r'2 consecutive iterations \(last: 3'):
        build_runner(cfg).train()


def test_nonfinite_terms_and_arguments():
    log_vars = dict(loss=torch.tensor(float('nan')), loss_ce=torch.tensor(0.5),
                    loss_dice=torch.tensor(float('inf')), acc_seg=torch.tensor(float('nan')))
    bad = nonfinite_terms(log_vars)
    assert set(bad) == {'loss', 'loss_dice'}  # acc_seg is not a loss term
    assert math.isnan(bad['loss']) and bad['loss_dice'] == math.inf
    assert nonfinite_terms(dict(loss=1.0, loss_x=torch.tensor(2.0))) == {}
    with pytest.raises(ValueError, match="'stop' or 'skip'"):
        NonFiniteLossHook(action='ignore')


def test_checkpoint_with_nan_weights_is_not_saved(tmp_path):
    """A finite loss can still leave NaN weights (an inf gradient): such a state is not saved."""
    from mmengine.hooks import Hook
    from mmseg.registry import HOOKS

    @HOOKS.register_module(force=True)
    class LSZooTestPoisonWeights(Hook):
        priority = 'NORMAL'  # after the loss check, before CheckpointHook

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            if runner.iter + 1 == 2:
                next(runner.model.parameters()).data.fill_(float('nan'))

    cfg = tiny_train_config(tmp_path, iters=3, interval=1,
                      custom_hooks=[dict(type='LSZooTestPoisonWeights')])
    with pytest.raises(NonFiniteLossError, match=r'weights hold NaN/inf at iteration 2 \('
                       r'backbone\.'):
        build_runner(cfg).train()
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['iter_1.pth']
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'iter_1.pth')
