"""Which engine runs the model's forward passes in scene mapping: PyTorch or ONNX Runtime.

``'auto'`` (the default) picks ONNX Runtime on a CPU device, when it is installed and the model
exports (the graph cached per checkpoint, :mod:`lszoo.deploy.onnx_cache`), and PyTorch on CUDA or
when ONNX cannot be used: the reason is said in one line. ``'onnx'`` makes such a reason an
error. Only the forward pass changes: the PyTorch model stays the one the threshold is resolved
for, so both backends threshold alike.
"""
from dataclasses import dataclass
from typing import Callable, Optional

import torch

from lszoo.errors import ConfigError

BACKENDS = ('auto', 'torch', 'onnx')


@dataclass
class Backend:
    """The forward model (a segmentor or an ONNX tile model) and the line that says which."""

    name: str
    forward: object
    line: str


def _onnx_obstacle(model, checkpoint, opts) -> Optional[str]:
    """Why the ONNX backend cannot run this mapping, or ``None``."""
    if not isinstance(model, torch.nn.Module):
        return None
    if not checkpoint:
        return 'no checkpoint file to key the ONNX graph cache'
    if opts.normalize != 'config':
        return f'normalize={opts.normalize!r} (the ONNX graph applies the config normalisation)'
    try:
        from lszoo.deploy.onnx_export import require_onnx
        require_onnx()
    except ConfigError as err:
        return str(err)
    return None


def choose_backend(model, cfg, checkpoint: Optional[str], opts,
                   log: Callable[[str], None] = print,
                   temperature: Optional[float] = None) -> Backend:
    """The backend of ``opts.backend`` for ``model`` (built from ``checkpoint`` and ``cfg``);
    an ONNX graph gets ``temperature`` folded in."""
    if opts.backend not in BACKENDS:
        raise ConfigError(f'backend must be one of {", ".join(BACKENDS)}, got {opts.backend!r}')
    if not isinstance(model, torch.nn.Module):  # an exported model given by the user
        return Backend('onnx', model, f'backend: onnx ({getattr(model, "path", "given model")})')
    cuda = torch.device(opts.device).type == 'cuda'
    if opts.backend == 'torch' or (opts.backend == 'auto' and cuda):
        why = 'requested' if opts.backend == 'torch' else 'CUDA device'
        return Backend('torch', model, f'backend: torch ({why})')
    why = _onnx_obstacle(model, checkpoint, opts)
    if why is None:
        from lszoo.deploy.onnx_cache import cached_tile_model
        try:
            onnx = cached_tile_model(model, cfg, checkpoint, opts.tile,
                                     threads=torch.get_num_threads(), log=log,
                                     temperature=temperature)
        except Exception as err:  # whatever stops the export; auto falls back below
            why = f'the model does not export to ONNX: {str(err).splitlines()[0][:300]}'
        else:
            verb = 'exported to cache' if getattr(onnx, 'built', False) else 'cached graph'
            return Backend('onnx', onnx, f'backend: onnx ({verb} {onnx.path})')
    if opts.backend == 'onnx':
        raise ConfigError(f'--backend onnx: {why}')
    return Backend('torch', model, f'backend: torch (ONNX not used: {why})')
