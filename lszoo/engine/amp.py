"""Mixed precision everywhere it runs: fp16 with loss scaling on CUDA, bf16 autocast on the CPU.

mmengine's ``AmpOptimWrapper`` asserts a GPU (its ``GradScaler`` is CUDA's), so on a CPU-only
machine ``--amp`` uses :class:`CPUAutocastOptimWrapper`: the plain optimizer wrapper with the
forward pass under ``torch.autocast('cpu', torch.bfloat16)``. bf16 keeps fp32's exponent range,
so no loss scaling is needed; parameters, gradients and optimizer state stay fp32.
"""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmseg.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose ``optim_context`` runs the forward pass under CPU autocast.

    Args:
        dtype: autocast dtype; CPU autocast supports ``'bfloat16'`` (the default).
    """

    def __init__(self, *args, dtype='bfloat16', **kwargs):
        super().__init__(*args, **kwargs)
        self.cast_dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
        if self.cast_dtype not in (torch.bfloat16, torch.float16):
            raise ValueError(f'CPUAutocastOptimWrapper: dtype must be bfloat16 or float16, '
                             f'got {dtype}')

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast('cpu', dtype=self.cast_dtype):
            yield


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
