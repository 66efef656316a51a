"""EMA of weights as GeoNeXt trains with it: mmengine's EMAHook (ExponentialMovingAverage).

What the recipe needs and is checked here with hand-computed values on a one-parameter model:
validation uses the EMA weights, the checkpoint's ``state_dict`` holds the EMA weights (so
``tools/test.py`` / ``load_from`` get them) and ``ema_state_dict`` the raw ones, and ``--resume``
continues both exactly as an uninterrupted run would. The last test checks that the GeoNeXt
configs carry the hook with decay 0.9999.
"""
import os.path as osp
import uuid

import pytest
import torch
from helpers import REPO, OneWeight
from mmengine.evaluator import BaseMetric
from mmengine.registry import METRICS
from mmengine.runner import Runner

import lszoo  # noqa: F401  (safe checkpoint loading is installed on import)
from lszoo.engine.checkpoint import load_checkpoint_file

LR, MOMENTUM = 0.1, 0.5


if 'LSZooTestWeightMetric' not in METRICS.module_dict:
    @METRICS.register_module(name='LSZooTestWeightMetric')
    class WeightMetric(BaseMetric):
        """Reports the model weight seen during validation / testing."""

        def process(self, data_batch, data_samples):
            self.results.extend(s['w'] for s in data_samples)

        def compute_metrics(self, results):
            return dict(w=sum(results) / len(results))


def make_runner(work_dir, max_iters, resume=False, load_from=None):
    loader = dict(dataset=[dict(inputs=torch.ones(1))] * 4,
                  sampler=dict(type='DefaultSampler', shuffle=False),
                  batch_size=1, num_workers=0, collate_fn=dict(type='default_collate'))
    return Runner(
        model=OneWeight(),
        work_dir=str(work_dir),
        train_dataloader=loader,
        val_dataloader=loader,
        test_dataloader=loader,
        val_evaluator=dict(type='LSZooTestWeightMetric'),
        test_evaluator=dict(type='LSZooTestWeightMetric'),
        train_cfg=dict(by_epoch=False, max_iters=max_iters, val_interval=2),
        val_cfg=dict(),
        test_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=LR)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False),
                           logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=[dict(type='EMAHook', ema_type='ExponentialMovingAverage',
                           momentum=MOMENTUM)],
        resume=resume,
        load_from=load_from,
        default_scope='mmengine',
        randomness=dict(seed=0),
        experiment_name=f'ema_{uuid.uuid4().hex}')  # own logger and visualizer per runner


def expected(iters):
    """Raw weight and EMA after ``iters`` iterations (EMA starts as a copy at iteration 1)."""
    raw = [1 - LR * t for t in range(1, iters + 1)]
    ema = raw[0]
    for w in raw[1:]:
        ema = (1 - MOMENTUM) * ema + MOMENTUM * w
    return raw[-1], ema


def weights_in(path):
    ckpt = load_checkpoint_file(path)
    return float(ckpt['state_dict']['w']), float(ckpt['ema_state_dict']['module.w'])


def test_hand_computed_expectations():
    assert expected(2) == pytest.approx((0.8, 0.85))
    assert expected(4) == pytest.approx((0.6, 0.6875))


def test_ema_used_for_validation_and_saved_in_checkpoint(tmp_path):
    runner = make_runner(tmp_path / 'full', max_iters=4)
    runner.train()
    # the val metric at iteration 4 saw the EMA weight, and training resumed with the raw one
    assert runner.message_hub.get_scalar('val/w').current() == pytest.approx(0.6875)
    assert float(runner.model.w.detach()) == pytest.approx(0.6)
    # state_dict = EMA weights (what load_from / tools/test.py get), ema_state_dict = raw
    assert weights_in(tmp_path / 'full' / 'iter_2.pth') == pytest.approx((0.85, 0.8))
    assert weights_in(tmp_path / 'full' / 'iter_4.pth') == pytest.approx((0.6875, 0.6))


def test_ema_survives_resume(tmp_path):
    first = make_runner(tmp_path / 'run', max_iters=2)
    first.train()
    assert weights_in(tmp_path / 'run' / 'iter_2.pth') == pytest.approx((0.85, 0.8))
    resumed = make_runner(tmp_path / 'run', max_iters=4, resume=True)
    resumed.train()
    # identical to the uninterrupted run: raw 0.6, EMA 0.6875 (a resume that restarted the
    # EMA from the loaded weights would give 0.5 * 0.85 ... != 0.6875 or swap raw and EMA)
    assert float(resumed.model.w.detach()) == pytest.approx(0.6)
    assert weights_in(tmp_path / 'run' / 'iter_4.pth') == pytest.approx((0.6875, 0.6))


def test_test_run_from_checkpoint_uses_ema_weights(tmp_path):
    make_runner(tmp_path / 'train', max_iters=4).train()
    tester = make_runner(tmp_path / 'test', max_iters=4,
                         load_from=str(tmp_path / 'train' / 'iter_4.pth'))
    metrics = tester.test()
    assert metrics['w'] == pytest.approx(0.6875)


@pytest.mark.parametrize('config', ['configs/geonext/geonext_bijie.py',
                                    'configs/geonext/geonext_cas_pretrain.py',
                                    'configs/_base_/models/geonext.py'])
def test_geonext_configs_use_ema_decay_09999(config):
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, config))
    hooks = [h for h in cfg.custom_hooks if h['type'] == 'LSZooEMAHook']
    assert len(hooks) == 1
    # the reference's warm-up EMA (tests/test_engine/test_warmup_ema.py), rising to decay 0.9999,
    # started from the weights training starts from (LSZooEMAHook)
    assert hooks[0]['ema_type'] == 'WarmupExponentialMovingAverage'
    assert hooks[0]['decay'] == pytest.approx(0.9999)
