"""Schedules that follow the run's length: the baseline recipe's learning rate at 10 %, 50 % and
100 % of runs of 300 and 3000 iterations, resolved as LSZooRunner resolves it, and in a real run
whose max_iters a user overrode."""
import pytest
import torch
from mmengine.config import Config
from mmengine.optim.scheduler import PolyLR
from mmengine.registry import PARAM_SCHEDULERS

import lszoo  # noqa: F401  (registers LSZooRunner)
from lszoo.engine.budget_schedule import resolve_fractions
from lszoo.errors import ConfigError

RECIPE = 'configs/_base_/schedules/adam_warmup_poly_bce_dice.py'


def _lr_curve(schedulers, max_iters, lr=1e-3):
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    built = [PARAM_SCHEDULERS.build(s, default_args=dict(optimizer=opt))
             for s in resolve_fractions(schedulers, max_iters)]
    curve = []
    for _ in range(max_iters):
        curve.append(opt.param_groups[0]['lr'])
        opt.step()
        for s in built:
            s.step()
    return curve


@pytest.mark.parametrize('max_iters', [300, 3000])
def test_recipe_learning_rate_at_10_50_100_percent(repo_root, max_iters):
    cfg = Config.fromfile(f'{repo_root}/{RECIPE}')
    lr = cfg.optim_wrapper.optimizer.lr
    curve = _lr_curve(cfg.param_scheduler, max_iters, lr)
    warm = max_iters // 10
    assert curve[0] == pytest.approx(0.1 * lr)
    # the warm-up ends at 10 % of the run: full rate there, not at a fixed iteration 200
    assert curve[warm] == pytest.approx(lr, rel=1e-6)
    assert max(curve) == pytest.approx(lr, rel=1e-6)
    # poly decay (power 0.9) over the remaining 90 %: at 50 % of the run, ((1 - 4/9)) ** 0.9
    expect_half = (lr - 1e-6) * (1 - (max_iters // 2 - warm) / (max_iters - warm)) ** 0.9 + 1e-6
    assert curve[max_iters // 2] == pytest.approx(expect_half, rel=0.02)
    # and it has decayed to (almost) eta_min by the last iteration
    assert curve[-1] < 0.01 * lr


def test_fixed_and_fraction_ends_together_are_refused():
    with pytest.raises(ConfigError, match='end or end_fraction'):
        resolve_fractions([dict(type='PolyLR', by_epoch=False, end=10, end_fraction=0.5)], 100)
    with pytest.raises(ConfigError, match=r'\[0, 1\]'):
        resolve_fractions([dict(type='PolyLR', by_epoch=False, end_fraction=2)], 100)
    with pytest.raises(ConfigError, match='larger than begin_fraction'):
        resolve_fractions([dict(type='PolyLR', by_epoch=False, begin_fraction=0.5,
                                end_fraction=0.5)], 100)


def test_a_run_shorter_than_the_warm_up_still_gets_one_step_of_each_phase():
    warm, poly = resolve_fractions([
        dict(type='LinearLR', by_epoch=False, begin=0, end_fraction=0.1),
        dict(type='PolyLR', by_epoch=False, begin_fraction=0.1, end_fraction=1.0)], 1)
    assert (warm['begin'], warm['end']) == (0, 1) and (poly['begin'], poly['end']) == (0, 1)


def test_a_run_with_max_iters_overridden_gets_a_schedule_of_that_length(tiny_config):
    """tools/train.py's --cfg-options train_cfg.max_iters=N path: the runner resolves the
    fractions from N (the schedulers it built end at N, the warm-up at N / 10)."""
    from lszoo.engine import build_runner
    path = tiny_config(options={
        'param_scheduler': [
            dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end_fraction=0.1),
            dict(type='PolyLR', power=0.9, eta_min=1e-6, by_epoch=False, begin_fraction=0.1,
                 end_fraction=1.0)],
        'train_cfg.max_iters': 20, 'train_cfg.val_interval': 1000,
        'default_hooks.checkpoint.interval': 1000})
    cfg = Config.fromfile(path)
    runner = build_runner(cfg)
    runner.train()
    ends = [(s.begin, s.end) for s in runner.param_schedulers]
    assert ends == [(0, 2), (2, 20)]
    assert isinstance(runner.param_schedulers[1], PolyLR)
