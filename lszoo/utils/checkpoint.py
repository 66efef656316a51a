"""One place to read weights: load a file without running code from it, clean its state dict,
check it fits a model.

A ``.pth`` file is a pickle, and unpickling can run arbitrary code. onedl-mmengine's
``load_from_local`` tries ``torch.load(weights_only=True)`` and, on any unpickling error, falls
back to ``weights_only=False`` with only a warning, so a crafted checkpoint executes code.
:func:`load_checkpoint_file` loads with ``weights_only=True`` plus the few globals a real
mmengine checkpoint needs and refuses anything else with a :class:`~lszoo.errors.CheckpointError`
naming the file and the offending type; :mod:`lszoo.engine.mmengine_patches` makes mmengine load
through it. Loading an untrusted pickle needs an explicit opt-in: :func:`set_trust_checkpoint`
(the ``--trust-checkpoint`` flag of the tools).

Cleaning follows timm's ``clean_state_dict`` / ``checkpoint_filter_fn`` idea (unwrap, strip
``module.``, keep one prefix); the fit check is the only one in lszoo, used by scene inference,
``tools/test.py`` and the pretrained encoders.
"""
import os
import os.path as osp
import pickle
import re
import warnings
from collections.abc import Mapping
from typing import Dict, Optional, Sequence, Union

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


_STATISTICS = ('min', 'max', 'mean', 'current')


def _history_buffer_method(obj, name):
    """Narrow stand-in for ``getattr`` while unpickling.

    :class:`mmengine.logging.HistoryBuffer` pickles its ``statistics_methods`` as
    ``getattr(HistoryBuffer, 'min')`` etc., so real checkpoints hold the global
    ``builtins.getattr``. Allowing ``getattr`` itself would let a crafted file read any attribute
    of any allowed object; this only returns HistoryBuffer's statistics methods.
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    allowed = set(_STATISTICS) | set(getattr(HistoryBuffer, '_statistics_methods', {}))
    if (obj is HistoryBuffer or isinstance(obj, HistoryBuffer)) and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'GLOBAL builtins.getattr applied to ({getattr(obj, "__name__", type(obj).__name__)}, '
        f'{name!r}); only '
        f'HistoryBuffer statistics methods {sorted(allowed)} are allowed')


def checkpoint_safe_globals() -> list:
    """The non-tensor globals an mmengine/mmseg checkpoint holds, allowed on top of torch's own.

    Found by saving real checkpoints with mmengine's ``Runner`` and listing the pickle's globals
    (see ``docs/safety.md``): ``message_hub`` holds :class:`mmengine.logging.HistoryBuffer`
    objects whose state holds numpy arrays and scalars (``numpy.ndarray``, ``numpy.dtype``,
    ``numpy._core.multiarray._reconstruct`` and ``.scalar``) and references to the buffer's
    statistics methods via ``getattr`` (allowed only through :func:`_history_buffer_method`).
    numpy 1.x writes the numpy reconstructors under ``numpy.core``; both names are allowed.
    ``collections.OrderedDict`` and ``_codecs.encode`` are already on torch's own list.
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
        (np_core.multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
        (np_core.multiarray.scalar, 'numpy.core.multiarray.scalar'),
        (np_core.multiarray._reconstruct, 'numpy._core.multiarray._reconstruct'),
        (np_core.multiarray.scalar, 'numpy._core.multiarray.scalar'),
        (_history_buffer_method, 'builtins.getattr'),
    ]
    # numpy >= 1.25 pickles a dtype's class (numpy.dtypes.Float64DType, ...) when one is stored
    for code in '?bhilqBHILQefdgFDG':
        allowed.append(type(np.dtype(code)))
    return allowed


_GLOBAL_RE = re.compile(r'(?:GLOBAL|global) ([A-Za-z_][\w.]*(?: applied to \([^)]*\))?)')


def _offending_type(message: str) -> str:
    found = _GLOBAL_RE.search(message)
    if found:
        return found.group(1)
    return message.strip().splitlines()[0] if message.strip() else 'an unsupported object'


def torch_load_safe(source, name: str, map_location):
    """``torch.load`` ``source`` (a path or a file object) under the trust setting (weights only
    plus :func:`checkpoint_safe_globals` unless trust is on).

    Errors are :class:`CheckpointError` naming ``name``."""
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
                'pass --trust-checkpoint (lszoo.utils.checkpoint.set_trust_checkpoint(True)).'
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
    ext = osp.splitext(path)[1].lower()
    if ext == '.onnx':
        raise CheckpointError(f'{path} is an ONNX model, not a PyTorch checkpoint: add --onnx '
                              '(tools/infer_scene.py runs ONNX models with --onnx; the other '
                              'tools need the .pth checkpoint)')
    if ext in ('.py', '.yml', '.yaml', '.json'):
        raise CheckpointError(f'CHECKPOINT {path} looks like a config ({ext} file), not a '
                              'checkpoint: the arguments are CONFIG first, then CHECKPOINT')
    checkpoint = torch_load_safe(path, path, map_location)
    if not isinstance(checkpoint, Mapping):
        raise CheckpointError(
            f'{path} holds a {type(checkpoint).__name__}, not a checkpoint dict '
            '(expected a state dict or a dict with a "state_dict" key)')
    return checkpoint


WRAPPER_KEYS = ('state_dict', 'model', 'module')


def clean_state_dict(checkpoint: Mapping, prefix: Optional[str] = None,
                     wrappers: Sequence[str] = WRAPPER_KEYS) -> Dict[str, object]:
    """The state dict of ``checkpoint``: the first of ``wrappers`` that holds a dict is unwrapped,
    ``module.`` (DDP) prefixes are stripped, and with ``prefix`` only keys under it are kept,
    without it (e.g. ``'backbone.'`` to take an encoder out of a whole-model checkpoint)."""
    for key in wrappers:
        if isinstance(checkpoint.get(key), Mapping):
            checkpoint = checkpoint[key]
            break
    out = {}
    for k, v in checkpoint.items():
        if k.startswith('module.'):
            k = k[len('module.'):]
        if prefix:
            if not k.startswith(prefix):
                continue
            k = k[len(prefix):]
        out[k] = v
    return out


def load_state_dict(path, prefix: Optional[str] = None,
                    wrappers: Sequence[str] = WRAPPER_KEYS) -> Dict[str, object]:
    """Load ``path`` safely and return its cleaned state dict (see :func:`clean_state_dict`)."""
    return clean_state_dict(load_checkpoint_file(path, map_location='cpu'), prefix, wrappers)


def _shape(v):
    return tuple(v.shape) if hasattr(v, 'shape') else None


def check_state_dict_fits(state: Mapping, model: Union[torch.nn.Module, Mapping], source: str,
                          target: str, allow_unexpected: bool = False, hint: str = '') -> None:
    """Raise :class:`CheckpointError` unless ``state`` holds every tensor of ``model`` (a module
    or its state dict) with the same shape and, unless ``allow_unexpected``, nothing else.

    The message reads ``'<source>: does not fit <target>: <n> shape mismatch(es), e.g. ...;
    <n> of the model's <N> tensors missing, e.g. ...; <n> unexpected key(s), e.g. ...<hint>'``,
    naming at most three keys of each kind.
    """
    own = model.state_dict() if isinstance(model, torch.nn.Module) else model
    wrong = [f'{k} {_shape(state[k])} in the checkpoint vs {_shape(v)} in the model'
             for k, v in own.items() if k in state and _shape(state[k]) != _shape(v)]
    missing = [k for k in own if k not in state]
    unexpected = [] if allow_unexpected else [k for k in state if k not in own]
    problems = []
    if wrong:
        problems.append(f'{len(wrong)} shape mismatch(es), e.g. ' + '; '.join(wrong[:3]))
    if missing:
        problems.append(f"{len(missing)} of the model's {len(own)} tensors missing, e.g. "
                        + ', '.join(missing[:3]))
    if unexpected:
        problems.append(f'{len(unexpected)} unexpected key(s), e.g. ' + ', '.join(unexpected[:3]))
    if problems:
        raise CheckpointError(f'{source}: does not fit {target}: ' + '; '.join(problems) + hint)


def load_weights(model: torch.nn.Module, path, target: str, prefix: Optional[str] = None,
                 hint: str = '') -> None:
    """Load the weights file ``path`` into ``model`` strictly, after :func:`check_state_dict_fits`
    has explained any mismatch."""
    state = load_state_dict(path, prefix)
    check_state_dict_fits(state, model, str(path), target, hint=hint)
    model.load_state_dict(state, strict=True)
