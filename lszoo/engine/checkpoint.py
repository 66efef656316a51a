"""Safe checkpoint loading for every lszoo path.

A ``.pth`` file is a pickle, and unpickling can run arbitrary code. onedl-mmengine's
``load_from_local`` tries ``torch.load(weights_only=True)`` and, on any unpickling error, falls back
to ``weights_only=False`` with only a warning, so a crafted checkpoint executes code on the user's
machine. :mod:`lszoo.engine.mmengine_patches` replaces that loader (on ``import lszoo``) with
:func:`load_checkpoint_file`, which loads with ``weights_only=True`` plus the few globals a real
mmengine checkpoint needs and refuses anything else with a :class:`~lszoo.errors.CheckpointError`
naming the file and the offending type. Loading an untrusted pickle needs an explicit opt-in:
:func:`set_trust_checkpoint` (the ``--trust-checkpoint`` flag of ``tools/train.py`` /
``tools/test.py``).

Writing is atomic too: :func:`atomic_write_bytes` writes a temporary file in the same directory,
fsyncs it and ``os.replace``-s it over the target, so a run killed mid-save leaves the previous
file intact; :mod:`lszoo.engine.mmengine_patches` routes mmengine's checkpoint writes through it.
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
    checkpoint = torch_load_safe(path, path, map_location)
    if not isinstance(checkpoint, Mapping):
        raise CheckpointError(
            f'{path} holds a {type(checkpoint).__name__}, not a checkpoint dict '
            '(expected a state dict or a dict with a "state_dict" key)')
    return checkpoint


# ----------------------------------------------------------------------------- atomic writing

TMP_MARK = '.lszoo-tmp-'


def _temp_path(path: str) -> str:
    head, tail = osp.split(path)
    return osp.join(head, f'.{tail}{TMP_MARK}{os.getpid()}')


def _fsync_dir(dirname: str) -> None:
    try:
        fd = os.open(dirname or '.', os.O_RDONLY)
    except OSError:  # e.g. platforms that cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is either the old file or the complete new one.

    The bytes go to a hidden temporary file in the same directory (same filesystem, so the rename
    is atomic), which is flushed and fsynced before ``os.replace``; the directory is fsynced after,
    so the rename itself survives a power cut. A process killed before the rename leaves only a
    ``.<name>.lszoo-tmp-<pid>`` file (see :func:`remove_stale_temp_files`).
    """
    path = os.fspath(path)
    dirname = osp.dirname(path)
    if dirname:
        os.makedirs(dirname, exist_ok=True)
    tmp = _temp_path(path)
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_dir(dirname)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a process owned by someone else counts as alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_temp_files(dirname) -> list:
    """Delete temporary files that killed runs left in ``dirname`` (those whose writing process
    is gone); returns their paths."""
    removed = []
    if not osp.isdir(dirname):
        return removed
    for name in os.listdir(dirname):
        if name.startswith('.') and TMP_MARK in name:
            pid = name.rsplit(TMP_MARK, 1)[1]
            if pid.isdigit() and pid_alive(int(pid)):  # a save in progress (this or a live run)
                continue
            try:
                os.remove(osp.join(dirname, name))
                removed.append(osp.join(dirname, name))
            except OSError:
                pass
    return removed
