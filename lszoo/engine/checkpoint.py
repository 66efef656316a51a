"""Safe checkpoint loading for every lszoo path.

A ``.pth`` file is a pickle, and unpickling can run arbitrary code. onedl-mmengine's
``load_from_local`` tries ``torch.load(weights_only=True)`` and, on any unpickling error, falls
back to ``weights_only=False`` with only a warning, so a crafted checkpoint executes code on the
user's machine. lszoo replaces that loader (on ``import lszoo``) with :func:`load_checkpoint_file`,
which loads with ``weights_only=True`` plus the few globals a real mmengine checkpoint needs and
refuses anything else with a :class:`~lszoo.errors.CheckpointError` naming the file and the
offending type. Loading an untrusted pickle needs an explicit opt-in: :func:`set_trust_checkpoint`
(the ``--trust-checkpoint`` flag of ``tools/train.py`` / ``tools/test.py``).
"""
import os
import os.path as osp
import pickle
import re
import warnings
from collections.abc import Mapping

import torch

from lszoo.errors import CheckpointError

_TRUST = False

TRUST_WARNING = (
    'Loading checkpoint {path} with --trust-checkpoint (torch.load(weights_only=False)): '
    'the file is unpickled in full, and a crafted checkpoint can run arbitrary code on this '
    'machine with your permissions. Only use it for files whose origin you trust.')


def set_trust_checkpoint(enabled: bool) -> None:
    """Allow (``True``) or forbid (``False``, the default) loading checkpoints as full pickles.

    With trust enabled every later load uses ``torch.load(weights_only=False)`` and warns what it
    risks. This is the ``--trust-checkpoint`` flag of the lszoo tools.
    """
    global _TRUST
    _TRUST = bool(enabled)


def is_checkpoint_trusted() -> bool:
    """Whether :func:`set_trust_checkpoint` enabled full-pickle loading."""
    return _TRUST


def checkpoint_safe_globals() -> list:
    """The non-tensor globals an mmengine/mmseg checkpoint holds, allowed on top of torch's own.

    Found by saving real checkpoints with mmengine's ``Runner`` (see ``docs/safety.md``):
    ``message_hub`` holds :class:`mmengine.logging.HistoryBuffer` objects whose state holds numpy
    arrays and scalars, and ``meta``/``dataset_meta`` may hold numpy values. Nothing that can call
    arbitrary functions (``getattr``, ``eval``, ``os.*``, ...) is allowed.
    """
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer

    np_core = np._core if hasattr(np, '_core') else np.core
    allowed = [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        np_core.multiarray._reconstruct,
        np_core.multiarray.scalar,
    ]
    # numpy >= 1.25 pickles dtypes by their class (numpy.dtypes.Float64DType, ...)
    for code in '?bhilqBHILQefdgFDG':
        allowed.append(type(np.dtype(code)))
    return allowed


_GLOBAL_RE = re.compile(r'(?:GLOBAL|global) ([A-Za-z_][\w.]*)')


def _offending_type(message: str) -> str:
    found = _GLOBAL_RE.search(message)
    if found:
        return found.group(1)
    return message.strip().splitlines()[0] if message.strip() else 'an unsupported object'


def _torch_load(source, name: str, map_location):
    """``torch.load`` ``source`` (a path or a file object) under the trust setting; errors name ``name``."""
    if _TRUST:
        warnings.warn(TRUST_WARNING.format(path=name), UserWarning, stacklevel=3)
        try:
            return torch.load(source, map_location=map_location, weights_only=False)
        except Exception as err:  # garbage input fails in many ways (KeyError, EOFError, ...)
            raise CheckpointError(
                f'{name} is not a PyTorch checkpoint (torch.load failed: '
                f'{type(err).__name__}: {err})') from None
    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            return torch.load(source, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        msg = str(err)
        if 'Weights only load failed' in msg or 'GLOBAL' in msg or 'global' in msg:
            raise CheckpointError(
                f'refusing to load checkpoint {name}: it holds {_offending_type(msg)}, which is '
                'not a tensor, a plain container or one of the safe types mmengine checkpoints '
                'need; unpickling it could run code. If you trust where this file comes from, '
                'pass --trust-checkpoint (lszoo.engine.checkpoint.set_trust_checkpoint(True)).'
            ) from None
        raise CheckpointError(
            f'{name} is not a PyTorch checkpoint (unpickling failed: {msg})') from None
    except Exception as err:  # garbage input fails in many ways (KeyError, EOFError, ...)
        raise CheckpointError(
            f'{name} is not a PyTorch checkpoint (torch.load failed: '
            f'{type(err).__name__}: {err})') from None


def load_checkpoint_file(path, map_location='cpu') -> dict:
    """Load a local checkpoint file without executing code from it.

    Args:
        path: path of a ``torch.save`` file (str or :class:`os.PathLike`).
        map_location: as in :func:`torch.load`; ``'cpu'`` by default.

    Returns:
        The checkpoint's top-level mapping (e.g. ``{'meta', 'state_dict', 'optimizer', ...}`` or a
        bare state dict).

    Raises:
        CheckpointError: the file is missing, empty, not a ``torch.save`` file, holds a type
            outside the allow-list (unless trust is enabled), or does not hold a mapping.
    """
    path = osp.expanduser(os.fspath(path))
    if not osp.exists(path):
        raise CheckpointError(f'checkpoint file {path} does not exist')
    if not osp.isfile(path):
        raise CheckpointError(f'checkpoint path {path} is not a file')
    if osp.getsize(path) == 0:
        raise CheckpointError(f'checkpoint file {path} is empty (0 bytes)')
    checkpoint = _torch_load(path, path, map_location)
    if not isinstance(checkpoint, Mapping):
        raise CheckpointError(
            f'{path} holds a {type(checkpoint).__name__}, not a checkpoint dict '
            '(expected a state dict or a dict with a "state_dict" key)')
    return checkpoint


def load_from_local_safe(filename, map_location):
    """mmengine ``CheckpointLoader`` scheme for local files: :func:`load_checkpoint_file`."""
    return load_checkpoint_file(filename, map_location=map_location)


def _strict_safe_torch_load(file, map_location=None, weights_only=None):
    """Stand-in for mmengine's ``_safe_torch_load`` without its ``weights_only=False`` fallback.

    mmengine's remote schemes (``open-mmlab://`` cache files, ceph/pavi buffers) call it.
    """
    if weights_only is False and not _TRUST:
        raise CheckpointError(
            f'refusing torch.load(weights_only=False) of {getattr(file, "name", file)}; pass '
            '--trust-checkpoint to allow it')
    name = os.fspath(file) if isinstance(file, (str, os.PathLike)) else repr(file)
    return _torch_load(file, name, map_location)


def install_safe_checkpoint_loading() -> None:
    """Route mmengine's checkpoint loading through :func:`load_checkpoint_file`.

    Overrides the local-file scheme of ``CheckpointLoader`` (used by ``Runner.load_checkpoint``,
    ``Runner.resume``, ``load_from``, ``init_cfg=dict(type='Pretrained')`` and mmseg's
    ``init_model``) and the module-level ``_safe_torch_load`` the other schemes call. Called on
    ``import lszoo``; idempotent.
    """
    from mmengine.runner import checkpoint as mm_ckpt

    mm_ckpt.CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_safe, force=True)
    mm_ckpt._safe_torch_load = _strict_safe_torch_load


install_safe_checkpoint_loading()
