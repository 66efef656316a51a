"""Stop (or skip the step) when a training loss becomes NaN or infinite.

mmengine's ``train_step`` runs forward, backward and the optimizer step before any hook sees the
loss, so a hook in ``after_train_iter`` alone would see a NaN only after the NaN gradients had
already been written into the weights (and the next ``CheckpointHook`` save would store them).
This hook therefore wraps the optimizer wrapper's ``update_params`` when training starts: a
non-finite total loss is never back-propagated and the step is not taken, so the weights keep
their last good values. In ``after_train_iter`` (which runs before ``CheckpointHook``, priority
``ABOVE_NORMAL``) it names the iteration and the non-finite loss terms, then either raises
:class:`NonFiniteLossError` (``action='stop'``; the last saved checkpoint stays the newest) or logs
a warning and goes on (``action='skip'``). As a last line of defence it also refuses to save a
checkpoint whose weights hold NaN/inf (``check_weights_on_save``), so the previous checkpoint stays
the newest one that ``--resume`` finds.
"""
import math
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapper
from mmseg.registry import HOOKS

from lszoo.errors import LSZooError


class NonFiniteLossError(LSZooError, FloatingPointError):
    """Training stopped because a loss became NaN or infinite."""


def _as_float(value) -> Optional[float]:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            return float('nan') if not torch.isfinite(value).all() else float(value.mean())
        return float(value.detach())
    if isinstance(value, (int, float)):
        return float(value)
    return None


def nonfinite_terms(log_vars) -> dict:
    """The loss entries (names containing ``loss``, as mmengine sums them) of a ``log_vars``
    mapping whose value is NaN or +-inf, as ``{name: value}``."""
    bad = {}
    for name, value in (log_vars or {}).items():
        if 'loss' not in name:
            continue
        number = _as_float(value)
        if number is not None and not math.isfinite(number):
            bad[name] = number
    return bad


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Guard training against NaN / inf losses.

    Args:
        action: ``'stop'`` raises :class:`NonFiniteLossError` naming the iteration and the loss
            terms; ``'skip'`` drops that step (no backward, no optimizer step) and goes on.
        max_skips: with ``action='skip'``, stop anyway after this many skipped steps in a row
            (a run that only produces NaN should not "finish"); ``None`` for no limit.
        check_weights_on_save: before each checkpoint save, check that every floating-point
            tensor of its ``state_dict`` is finite; if not, stop without saving.
    """

    priority = 'ABOVE_NORMAL'  # after_train_iter before CheckpointHook (VERY_LOW)

    def __init__(self, action: str = 'stop', max_skips: Optional[int] = 10,
                 check_weights_on_save: bool = True) -> None:
        if action not in ('stop', 'skip'):
            raise ValueError(f"NonFiniteLossHook: action must be 'stop' or 'skip', got {action!r}")
        self.action = action
        self.max_skips = max_skips
        self.check_weights_on_save = check_weights_on_save
        self.skipped_iters = []
        self._skipped_this_iter = False
        self._consecutive = 0

    def before_train(self, runner) -> None:
        optim_wrapper = runner.optim_wrapper
        if not isinstance(optim_wrapper, OptimWrapper):
            runner.logger.warning(
                'NonFiniteLossHook: the optimizer wrapper is not a single OptimWrapper; a '
                'non-finite loss is detected after the step instead of before it')
            return
        if getattr(optim_wrapper.update_params, '_lszoo_guarded', False):
            return
        original = optim_wrapper.update_params
        hook = self

        def guarded_update_params(loss, *args, **kwargs):
            if isinstance(loss, torch.Tensor) and not torch.isfinite(loss.detach()).all():
                hook._skipped_this_iter = True
                optim_wrapper.zero_grad()
                return None
            return original(loss, *args, **kwargs)

        guarded_update_params._lszoo_guarded = True
        optim_wrapper.update_params = guarded_update_params

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._skipped_this_iter = False

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        bad = nonfinite_terms(outputs)
        if not bad and not self._skipped_this_iter:
            self._consecutive = 0
            return
        iteration = runner.iter + 1  # 1-based, as in the log and in checkpoint names
        terms = ', '.join(f'{k}={v}' for k, v in bad.items()) or 'the total loss'
        finite = {k: v for k, v in (outputs or {}).items()
                  if 'loss' in k and k not in bad and _as_float(v) is not None}
        finite_txt = (' (finite: ' + ', '.join(f'{k}={_as_float(v):.4g}'
                                               for k, v in finite.items()) + ')') if finite else ''
        took_step = not self._skipped_this_iter
        if self.action == 'stop':
            state = ('the optimizer step was not taken' if not took_step else
                     'the weights may already be corrupted')
            raise NonFiniteLossError(
                f'non-finite loss at iteration {iteration}: {terms}{finite_txt}; training '
                f'stopped ({state}; the last checkpoint saved before this iteration in '
                f'{runner.work_dir} is kept). Lower the learning rate, check the data for '
                "NaN/inf values, or set NonFiniteLossHook(action='skip').")
        self.skipped_iters.append(iteration)
        self._consecutive += 1
        runner.logger.warning(f'non-finite loss at iteration {iteration}: {terms}{finite_txt}; '
                              'step skipped (no backward, no optimizer step)')
        if self.max_skips is not None and self._consecutive > self.max_skips:
            raise NonFiniteLossError(
                f'non-finite loss in {self._consecutive} consecutive iterations (last: '
                f'{iteration}: {terms}); training stopped, the last checkpoint in '
                f'{runner.work_dir} is kept')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if not self.check_weights_on_save:
            return
        bad = [name for name, value in (checkpoint.get('state_dict') or {}).items()
               if isinstance(value, torch.Tensor) and value.is_floating_point()
               and not torch.isfinite(value).all()]
        if bad:
            shown = ', '.join(bad[:5]) + (f' and {len(bad) - 5} more' if len(bad) > 5 else '')
            raise NonFiniteLossError(
                f'weights hold NaN/inf at iteration {runner.iter + 1} ({shown}); the checkpoint '
                f'was not saved and training stopped; the last checkpoint in {runner.work_dir} '
                'is kept. Lower the learning rate or enable gradient clipping.')
