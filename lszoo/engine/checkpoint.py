"""Safe checkpoint loading for every lszoo path.

A ``.pth`` file is a pickle, and unpickling can run arbitrary code. onedl-mmengine's
``load_from_local`` tries ``torch.load(weights_only=True)`` and, on any unpickling error, falls
back to ``weights_only=False`` with only a warning, so a crafted checkpoint executes code on the
user's machine. lszoo replaces that loader (on ``import lszoo``) with :func:`load_checkpoint_file`,
which loads with ``weights_only=True`` plus the few globals a real mmengine checkpoint needs and
refuses anything else with a :class:`~lszoo.errors.CheckpointError` naming the file and the
offending type. Loading an untrusted pickle needs an explicit opt-in: :func:`set_trust_checkpoint`
(the ``--trust-checkpoint`` flag of ``tools/train.py`` / ``tools/test.py``).

Writing is atomic too: :func:`atomic_write_bytes` writes a temporary file in the same directory,
fsyncs it and ``os.replace``-s it over the target, so a run killed mid-save leaves the previous
file intact. :func:`install_atomic_checkpoint_saving` routes mmengine's local file backend (every
``Runner.save_checkpoint``) and ``CheckpointHook``'s ``last_checkpoint`` pointer through it.
"""
import builtins
import io
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


def _torch_load(source, name: str, map_location):
    """``torch.load`` ``source`` (a path or a file object) under the trust setting.

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


def _pid_alive(pid: int) -> bool:
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
            if pid.isdigit() and _pid_alive(int(pid)):  # a save in progress (this or a live run)
                continue
            try:
                os.remove(osp.join(dirname, name))
                removed.append(osp.join(dirname, name))
            except OSError:
                pass
    return removed


class _AtomicTextFile(io.StringIO):
    """A text file opened for writing whose content lands atomically on close."""

    def __init__(self, path: str, encoding: str = 'utf-8'):
        super().__init__()
        self._path = path
        self._encoding = encoding

    def close(self):
        if not self.closed:
            data = self.getvalue().encode(self._encoding)
            super().close()
            atomic_write_bytes(self._path, data)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:  # do not publish a half-written pointer
            io.StringIO.close(self)
        return False


def _pointer_open(file, mode='r', *args, **kwargs):
    """``open`` for mmengine's ``checkpoint_hook`` module: ``last_checkpoint`` writes are atomic."""
    if (isinstance(file, (str, os.PathLike)) and osp.basename(os.fspath(file)) == 'last_checkpoint'
            and mode in ('w', 'wt')):
        return _AtomicTextFile(os.fspath(file), kwargs.get('encoding') or 'utf-8')
    return builtins.open(file, mode, *args, **kwargs)


def _atomic_local_backend():
    from mmengine.fileio.backends import LocalBackend

    class AtomicLocalBackend(LocalBackend):
        """mmengine's local file backend whose ``put``/``put_text`` write atomically."""

        def put(self, obj: bytes, filepath) -> None:
            atomic_write_bytes(filepath, obj)

        def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
            atomic_write_bytes(filepath, obj.encode(encoding))

    return AtomicLocalBackend


AtomicLocalBackend = None


def install_atomic_checkpoint_saving() -> None:
    """Make mmengine's local checkpoint writes atomic (called on ``import lszoo``; idempotent).

    ``Runner.save_checkpoint`` serialises to bytes and calls the ``local`` file backend's ``put``:
    lszoo registers :class:`AtomicLocalBackend` in its place. ``CheckpointHook`` writes the
    ``last_checkpoint`` pointer with a plain ``open(..., 'w')`` (truncate, then write: a kill in
    between leaves an empty pointer and ``--resume`` silently starts from scratch); lszoo gives
    that module an ``open`` that writes this one file atomically and passes everything else on.
    """
    global AtomicLocalBackend
    from mmengine.fileio.backends import register_backend
    from mmengine.hooks import checkpoint_hook

    if AtomicLocalBackend is None:
        AtomicLocalBackend = _atomic_local_backend()
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
    checkpoint_hook.open = _pointer_open


install_safe_checkpoint_loading()
install_atomic_checkpoint_saving()
