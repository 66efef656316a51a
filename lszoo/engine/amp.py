"""Mixed precision everywhere it runs: fp16 with loss scaling on CUDA, bf16 autocast on the CPU.

mmengine's ``AmpOptimWrapper`` asserts a GPU (its ``GradScaler`` is CUDA's), so on a CPU-only
machine ``--amp`` uses :class:`CPUAutocastOptimWrapper`: the plain optimizer wrapper with the
forward pass under ``torch.autocast('cpu', torch.bfloat16)``. bf16 keeps fp32's exponent range,
so no loss scaling is needed; parameters, gradients and optimizer state stay fp32.

bf16 keeps only 8 bits of mantissa: on some CPUs (seen with GeoNeXt's dilated ASPP convolutions on
an AMD EPYC with avx512_bf16) a step's gradients come out non-finite. CUDA's ``GradScaler`` skips
such steps; :class:`CPUAutocastOptimWrapper` does the same, says so in one warning line with a
running count, and stops the run with one error line when ``max_consecutive_skips`` steps in a
row were skipped (bf16 then cannot train this model here: train without ``--amp``).
"""
import logging
from contextlib import contextmanager

import torch
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmseg.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose ``optim_context`` runs the forward pass under CPU autocast.

    Args:
        dtype: autocast dtype; CPU autocast supports ``'bfloat16'`` (the default).
        max_consecutive_skips: steps with non-finite gradients in a row before the run stops.
    """

    def __init__(self, *args, dtype='bfloat16', max_consecutive_skips: int = 20, **kwargs):
        super().__init__(*args, **kwargs)
        self.skipped_steps = 0
        self._skips_in_a_row = 0
        self.max_consecutive_skips = int(max_consecutive_skips)
        self.cast_dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
        if self.cast_dtype not in (torch.bfloat16, torch.float16):
            raise ValueError(f'CPUAutocastOptimWrapper: dtype must be bfloat16 or float16, '
                             f'got {dtype}')

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast('cpu', dtype=self.cast_dtype):
            yield

    def _grads_finite(self) -> bool:
        grads = [p.grad for group in self.optimizer.param_groups for p in group['params']
                 if p.grad is not None]
        return not grads or bool(torch.stack([g.isfinite().all() for g in grads]).all())

    def step(self, **kwargs) -> None:
        """The optimizer step, skipped (and counted, and said) when a gradient is not finite."""
        if self._grads_finite():
            self._skips_in_a_row = 0
            return super().step(**kwargs)
        self.skipped_steps += 1
        self._skips_in_a_row += 1
        print_log(f'lszoo: warning: {self.cast_dtype} autocast gave non-finite gradients: '
                  f'optimizer step skipped ({self.skipped_steps} skipped so far)',
                  logger='current', level=logging.WARNING)
        if self._skips_in_a_row >= self.max_consecutive_skips:
            from .hooks.nonfinite_loss import NonFiniteLossError
            raise NonFiniteLossError(
                f'{self._skips_in_a_row} optimizer steps in a row had non-finite gradients '
                f'under {self.cast_dtype} autocast: this model does not train in mixed precision '
                'on this CPU; train without --amp')


def amp_optim_wrapper(optim_wrapper: dict, cuda: bool) -> dict:
    """``optim_wrapper`` switched to mixed precision: fp16 ``AmpOptimWrapper`` (dynamic loss
    scale) with CUDA, :class:`CPUAutocastOptimWrapper` (bf16) without. A config that already
    asks for either is returned unchanged."""
    cfg = dict(optim_wrapper)
    if cfg.get('type', 'OptimWrapper') in ('AmpOptimWrapper', 'CPUAutocastOptimWrapper'):
        return cfg
    if cuda:
        cfg.update(type='AmpOptimWrapper', dtype='float16')
        cfg.setdefault('loss_scale', 'dynamic')
    else:
        cfg.update(type='CPUAutocastOptimWrapper', dtype='bfloat16')
    return cfg


def amp_dtype(device: str) -> torch.dtype:
    """The autocast dtype ``--amp`` uses on ``device``: fp16 on CUDA, bf16 on the CPU."""
    return torch.float16 if str(device).startswith('cuda') else torch.bfloat16


# Also in mmengine's root registry, for runners built outside mmseg's scope (as LSZooRunner is).
MMENGINE_OPTIM_WRAPPERS.register_module(module=CPUAutocastOptimWrapper)
