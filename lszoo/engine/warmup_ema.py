"""EMA of the weights with a warm-up of the decay, as GeoNeXt's reference trains.

GeoNeXt's reference (github ruribev/GeoNeXt, ``utils/ema.py``) keeps a shadow of the trainable
parameters, starting from the initial weights, and after the k-th optimizer step (k = 1, 2, ...)
updates it with ``decay_k = min(decay, (1 + k) / (10 + k))``: early weights are forgotten fast,
so the first iterations do not dominate the average. mmengine's ``ExponentialMovingAverage`` uses
a fixed decay and copies the weights at its first update instead; with decay 0.9999 the first
1 % of a 14,580-iteration run then still weighs about 24 % of the final average.
"""
from typing import Optional

import torch
from mmengine.model import ExponentialMovingAverage
from mmseg.registry import MODELS

from lszoo.errors import ConfigError


@MODELS.register_module()
class WarmupExponentialMovingAverage(ExponentialMovingAverage):
    first_step = 1  # ``steps`` before the first update (LSZooEMAHook reads it)

    """``ema = decay_k ema + (1 - decay_k) w`` with ``decay_k = min(decay, (1 + k) / (10 + k))``.

    For :class:`~lszoo.engine.hooks.LSZooEMAHook` (mmengine's ``EMAHook``):
    ``dict(type='LSZooEMAHook', ema_type='WarmupExponentialMovingAverage', decay=0.9999)``. The
    average starts from the weights training starts from (pretrained weights, ``load_from``;
    mmengine's plain ``EMAHook`` builds it before pretrained weights are loaded), and update k
    (1-based) uses ``decay_k``. mmengine's update counter ``steps``
    (a buffer, saved in ``ema_state_dict`` and restored by ``--resume``) starts at 1 here, so it
    equals k at every update: mmengine's first-update copy never happens, exactly as in the
    reference, and a resumed run continues the warm-up where it stopped.

    Args:
        model: the model to average.
        decay: the decay the warm-up rises to (reference: 0.9999).
        warmup: ``False`` gives a plain constant ``decay`` (still averaging from the first
            update on).
        device / update_buffers: as in mmengine (buffers follow the model by default, as the
            reference's shadow holds parameters only).
    """

    def __init__(self, model: torch.nn.Module, decay: float = 0.9999, warmup: bool = True,
                 device: Optional[torch.device] = None, update_buffers: bool = False):
        if not 0.0 < decay < 1.0:
            raise ConfigError(f'WarmupExponentialMovingAverage: decay must be in (0, 1), got '
                              f'{decay!r}')
        super().__init__(model, momentum=1.0 - decay, interval=1, device=device,
                         update_buffers=update_buffers)
        self.decay = float(decay)
        self.warmup = bool(warmup)
        self.steps.fill_(self.first_step)  # = k of the next update (see the class doc)

    def decay_at(self, k: int) -> float:
        """Decay of the k-th update (1-based)."""
        if not self.warmup:
            return self.decay
        return min(self.decay, (1.0 + k) / (10.0 + k))

    def avg_func(self, averaged_param: torch.Tensor, source_param: torch.Tensor,
                 steps) -> None:
        averaged_param.lerp_(source_param, 1.0 - self.decay_at(int(steps)))
