"""The only place lszoo changes mmengine: safe checkpoint loading and atomic checkpoint writes.

:func:`install` (called once, by ``lszoo/__init__.py``, so that ``import lszoo`` and a plain
mmengine ``Runner`` with ``custom_imports=['lszoo']`` are both covered) replaces four things:

1. ``CheckpointLoader``'s local-file scheme (``''``; mmengine's ``load_from_local``) by
   :func:`lszoo.engine.checkpoint.load_checkpoint_file`: ``Runner.load_checkpoint``/``resume``,
   ``load_from``, ``init_cfg=dict(type='Pretrained')`` and mmseg's ``init_model`` load with
   ``weights_only=True`` instead of falling back to a full unpickle.
2. ``mmengine.runner.checkpoint._safe_torch_load`` (used by the remote schemes) by
   :func:`strict_safe_torch_load`, which has no ``weights_only=False`` fallback.
3. The ``'local'`` file backend by :class:`AtomicLocalBackend` (every ``Runner.save_checkpoint``
   goes through its ``put``): temporary file + fsync + ``os.replace``.
4. ``open`` in ``mmengine.hooks.checkpoint_hook``, so that the ``last_checkpoint`` pointer is
   written atomically (mmengine truncates it, then writes).

Each replaced object is checked first: if it is neither mmengine's original (as of the tested
version, :data:`TESTED_MMENGINE`) nor lszoo's replacement, :func:`install` raises
:class:`MMEnginePatchError` instead of patching something it does not know.
"""
import builtins
import inspect
import io
import os
import os.path as osp

from lszoo.engine.checkpoint import (atomic_write_bytes, is_checkpoint_trusted,
                                     load_checkpoint_file, torch_load_safe)
from lszoo.errors import CheckpointError

TESTED_MMENGINE = '0.10'  # onedl-mmengine 0.10.x: the versions these patches were checked on


class MMEnginePatchError(RuntimeError):
    """mmengine changed where lszoo patches it; the safety patches cannot be installed."""


def load_from_local_safe(filename, map_location):
    """mmengine ``CheckpointLoader`` scheme for local files: :func:`load_checkpoint_file`."""
    return load_checkpoint_file(filename, map_location=map_location)


def strict_safe_torch_load(file, map_location=None, weights_only=None):
    """Stand-in for mmengine's ``_safe_torch_load`` without its ``weights_only=False`` fallback.

    mmengine's remote schemes (``open-mmlab://`` cache files, ceph/pavi buffers) call it.
    """
    if weights_only is False and not is_checkpoint_trusted():
        raise CheckpointError(
            f'refusing torch.load(weights_only=False) of {getattr(file, "name", file)}; pass '
            '--trust-checkpoint to allow it')
    name = os.fspath(file) if isinstance(file, (str, os.PathLike)) else repr(file)
    return torch_load_safe(file, name, map_location)


class AtomicTextFile(io.StringIO):
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


def pointer_open(file, mode='r', *args, **kwargs):
    """``open`` for mmengine's ``checkpoint_hook`` module: ``last_checkpoint`` writes are atomic."""
    if (isinstance(file, (str, os.PathLike)) and osp.basename(os.fspath(file)) == 'last_checkpoint'
            and mode in ('w', 'wt')):
        return AtomicTextFile(os.fspath(file), kwargs.get('encoding') or 'utf-8')
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


AtomicLocalBackend = _atomic_local_backend()


def _expect(ok: bool, what: str) -> None:
    if not ok:
        import mmengine
        raise MMEnginePatchError(
            f'lszoo cannot install its checkpoint safety patches: {what} is not what lszoo '
            f'expects (mmengine {mmengine.__version__}; patches tested on {TESTED_MMENGINE}.x). '
            'Install a tested mmengine or update lszoo/engine/mmengine_patches.py.')


def _check_targets():
    """Verify each object about to be replaced is mmengine's original or lszoo's replacement."""
    from mmengine.fileio.backends import LocalBackend, backends
    from mmengine.hooks import checkpoint_hook
    from mmengine.runner import checkpoint as mm_ckpt

    local = mm_ckpt.CheckpointLoader._get_checkpoint_loader('checkpoint.pth')
    _expect(local in (mm_ckpt.load_from_local, load_from_local_safe),
            "mmengine.runner.checkpoint.CheckpointLoader's local scheme")
    stl = getattr(mm_ckpt, '_safe_torch_load', None)
    _expect(stl is strict_safe_torch_load or (
        callable(stl) and stl.__module__ == mm_ckpt.__name__
        and list(inspect.signature(stl).parameters) == ['file', 'map_location', 'weights_only']),
        'mmengine.runner.checkpoint._safe_torch_load')
    _expect(backends.get('local') in (LocalBackend, AtomicLocalBackend),
            "mmengine's 'local' file backend")
    _expect(getattr(checkpoint_hook, 'open', builtins.open) in (builtins.open, pointer_open)
            and "open(save_file, 'w')" in inspect.getsource(checkpoint_hook),
            'the last_checkpoint write of mmengine.hooks.checkpoint_hook')


def install() -> None:
    """Install the four patches (idempotent); raises :class:`MMEnginePatchError` if mmengine's
    objects are not the ones lszoo knows."""
    from mmengine.fileio.backends import register_backend
    from mmengine.hooks import checkpoint_hook
    from mmengine.runner import checkpoint as mm_ckpt

    _check_targets()
    mm_ckpt.CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_safe, force=True)
    mm_ckpt._safe_torch_load = strict_safe_torch_load
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
    checkpoint_hook.open = pointer_open


def installed() -> bool:
    """Whether the patches are in place (e.g. after another library re-registered a scheme)."""
    from mmengine.fileio.backends import backends
    from mmengine.hooks import checkpoint_hook
    from mmengine.runner import checkpoint as mm_ckpt

    loader = mm_ckpt.CheckpointLoader._get_checkpoint_loader('checkpoint.pth')
    return (loader is load_from_local_safe
            and mm_ckpt._safe_torch_load is strict_safe_torch_load
            and backends.get('local') is AtomicLocalBackend
            and getattr(checkpoint_hook, 'open', None) is pointer_open)
