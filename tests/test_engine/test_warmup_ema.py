"""WarmupExponentialMovingAverage: GeoNeXt's EMA (decay min(d, (1 + k) / (10 + k))) in mmengine's
EMAHook, checked against a hand computation on a one-parameter model, across a resume."""
import uuid

import pytest
import torch
from helpers import OneWeight
from mmengine.runner import Runner

import lszoo  # noqa: F401  (registers the averaging model, safe checkpoint loading)
from lszoo.engine.checkpoint import load_checkpoint_file
from lszoo.engine.warmup_ema import WarmupExponentialMovingAverage
from lszoo.errors import ConfigError

LR, DECAY = 0.1, 0.28  # decay small enough that the cap is reached at update 3


def reference_ema(iters, decay=DECAY):
    """The reference's shadow: starts at the initial weight, update k uses its warm-up decay."""
    shadow = 1.0
    for k in range(1, iters + 1):
        d = min(decay, (1 + k) / (10 + k))
        shadow = d * shadow + (1 - d) * (1 - LR * k)
    return shadow


class PretrainedOneWeight(OneWeight):
    """Built with w = 5 (a random start); ``init_weights`` (the runner calls it after the EMA
    hook's ``before_run``) loads the 'pretrained' w = 1."""

    def __init__(self):
        super().__init__()
        with torch.no_grad():
            self.w.fill_(5.0)

    def init_weights(self):
        with torch.no_grad():
            self.w.fill_(1.0)


def make_runner(work_dir, max_iters, resume=False, hook='LSZooEMAHook', model=OneWeight):
    loader = dict(dataset=[dict(inputs=torch.ones(1))] * 8,
                  sampler=dict(type='DefaultSampler', shuffle=False),
                  batch_size=1, num_workers=0, collate_fn=dict(type='default_collate'))
    return Runner(
        model=model(), work_dir=str(work_dir), train_dataloader=loader,
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=LR)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False)),
        custom_hooks=[dict(type=hook, ema_type='WarmupExponentialMovingAverage',
                           decay=DECAY)],
        resume=resume, default_scope='mmseg', randomness=dict(seed=0),
        experiment_name=f'wema_{uuid.uuid4().hex}')  # own logger and visualizer per runner


def saved(path):
    """(EMA weight, raw weight, EMA update counter) of a checkpoint (EMAHook swaps them)."""
    ckpt = load_checkpoint_file(path)
    return (float(ckpt['state_dict']['w']), float(ckpt['ema_state_dict']['module.w']),
            int(ckpt['ema_state_dict']['steps']))


def test_decay_schedule_and_bad_decay():
    ema = WarmupExponentialMovingAverage(torch.nn.Linear(1, 1), decay=0.9999)
    assert ema.decay_at(1) == pytest.approx(2 / 11)
    assert ema.decay_at(100) == pytest.approx(101 / 110)
    assert ema.decay_at(10 ** 6) == 0.9999
    assert WarmupExponentialMovingAverage(torch.nn.Linear(1, 1), warmup=False).decay_at(1) \
        == 0.9999
    with pytest.raises(ConfigError, match='decay'):
        WarmupExponentialMovingAverage(torch.nn.Linear(1, 1), decay=1.0)


def test_first_update_averages_from_the_initial_weights():
    model = OneWeight()
    ema = WarmupExponentialMovingAverage(model, decay=DECAY)
    with torch.no_grad():
        model.w.fill_(0.9)  # after one SGD step
    ema.update_parameters(model)
    # reference: 2/11 * 1.0 + 9/11 * 0.9 (mmengine's plain EMA would copy 0.9)
    assert float(ema.module.w) == pytest.approx(reference_ema(1))
    assert float(ema.module.w) != pytest.approx(0.9)


def test_average_starts_from_the_weights_init_weights_loaded(tmp_path):
    make_runner(tmp_path / 'lszoo', max_iters=4, model=PretrainedOneWeight).train()
    ema4, raw4, _ = saved(tmp_path / 'lszoo' / 'iter_4.pth')
    assert raw4 == pytest.approx(0.6)
    assert ema4 == pytest.approx(reference_ema(4))  # the shadow started at the pretrained 1.0
    # mmengine's EMAHook built the average before init_weights: it starts from the random 5.0
    make_runner(tmp_path / 'plain', max_iters=4, hook='EMAHook', model=PretrainedOneWeight).train()
    plain4 = saved(tmp_path / 'plain' / 'iter_4.pth')[0]
    assert plain4 != pytest.approx(reference_ema(4))
    assert plain4 > ema4


def test_training_and_resume_match_the_reference_shadow(tmp_path):
    make_runner(tmp_path / 'full', max_iters=4).train()
    ema4, raw4, steps4 = saved(tmp_path / 'full' / 'iter_4.pth')
    assert raw4 == pytest.approx(0.6)
    assert ema4 == pytest.approx(reference_ema(4))
    assert steps4 == 5  # k of the next update

    make_runner(tmp_path / 'run', max_iters=2).train()
    assert saved(tmp_path / 'run' / 'iter_2.pth')[0] == pytest.approx(reference_ema(2))
    make_runner(tmp_path / 'run', max_iters=4, resume=True).train()
    # the resumed run continues the warm-up (k = 3, 4) from the saved average
    assert saved(tmp_path / 'run' / 'iter_4.pth') == pytest.approx((ema4, raw4, steps4))
