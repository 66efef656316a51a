"""Learning-rate schedules that follow the run's length.

A schedule written with fixed iteration numbers (warm-up to 200, poly decay to 2000) silently
stops fitting the run when a user sets ``train_cfg.max_iters=300``: the rate then warms up for two
thirds of the run and never decays. Here a scheduler's ``begin`` / ``end`` may instead be given as
``begin_fraction`` / ``end_fraction`` of the run; :class:`~lszoo.engine.runner.LSZooRunner`
resolves them from the run's ``max_iters`` (``by_epoch=False``) or ``max_epochs`` when it builds
the schedulers, so any override of the run's length (a config, ``--cfg-options``) gives a
schedule of that length. A resumed run keeps the schedule its first start resolved (mmengine
restores the schedulers' state from the checkpoint).
"""
import copy
from typing import List, Union

from lszoo.errors import ConfigError

FRACTION_KEYS = {'begin_fraction': 'begin', 'end_fraction': 'end'}


def resolve_fractions(schedulers: Union[dict, List[dict]], max_iters: int,
                      max_epochs: int = None):
    """A copy of the scheduler config(s) with every ``*_fraction`` turned into an iteration
    (or epoch, for ``by_epoch=True``) number: ``round(fraction * length)``."""
    if isinstance(schedulers, dict) and 'type' not in schedulers:  # one list per optimizer
        return {k: resolve_fractions(v, max_iters, max_epochs) for k, v in schedulers.items()}
    single = isinstance(schedulers, dict)
    out = []
    for cfg in ([schedulers] if single else schedulers):
        cfg = copy.deepcopy(cfg)
        if isinstance(cfg, dict):
            _resolve_one(cfg, max_epochs if cfg.get('by_epoch', True) else max_iters)
        out.append(cfg)
    return out[0] if single else out


def _resolve_one(cfg: dict, length) -> None:
    fracs = {}
    for key, target in FRACTION_KEYS.items():
        if key not in cfg:
            continue
        frac = cfg.pop(key)
        if target in cfg:
            raise ConfigError(f"param_scheduler {cfg.get('type')}: give {target} or {key}, "
                              'not both')
        if not isinstance(frac, (int, float)) or not 0 <= frac <= 1:
            raise ConfigError(f"param_scheduler {cfg.get('type')}: {key} must be a number in "
                              f'[0, 1], got {frac!r}')
        if length is None:
            raise ConfigError(f"param_scheduler {cfg.get('type')}: {key} needs the run's length "
                              '(train_cfg.max_iters or max_epochs)')
        fracs[target] = frac
    if fracs.get('end', 1) <= fracs.get('begin', 0):
        raise ConfigError(f"param_scheduler {cfg.get('type')}: end_fraction must be larger "
                          'than begin_fraction')
    if 'begin' in fracs:
        cfg['begin'] = min(int(round(fracs['begin'] * length)), length - 1)
    if 'end' in fracs:  # a run shorter than the phase still gets one step of it
        cfg['end'] = max(int(round(fracs['end'] * length)), cfg.get('begin', 0) + 1)
