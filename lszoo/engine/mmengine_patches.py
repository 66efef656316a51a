"""The only place lszoo changes mmengine: safe checkpoint loading and atomic checkpoint writes.

Two kinds of change, installed at two moments:

* through mmengine's **public** registration API, on ``import lszoo`` (:func:`register_public`;
  so a plain mmengine ``Runner`` with ``custom_imports=['lszoo']`` is covered too):

  1. ``CheckpointLoader``'s local-file scheme (``''``; mmengine's ``load_from_local``) becomes
     :func:`lszoo.utils.checkpoint.load_checkpoint_file`: ``Runner.load_checkpoint``/``resume``,
     ``load_from``, ``init_cfg=dict(type='Pretrained')`` and mmseg's ``init_model`` load with
     ``weights_only=True`` instead of falling back to a full unpickle;
  2. the ``'local'`` file backend becomes :class:`AtomicLocalBackend` (every
     ``Runner.save_checkpoint`` goes through its ``put``): temporary file + fsync + rename;

* over mmengine **internals** (:func:`install_private`), by :class:`~lszoo.engine.LSZooRunner`
  when it is built, else lazily at the first checkpoint load or save through the two above:

  3. ``mmengine.runner.checkpoint._safe_torch_load`` (used by the remote schemes) by
     :func:`strict_safe_torch_load`, which has no ``weights_only=False`` fallback;
  4. ``open`` in ``mmengine.hooks.checkpoint_hook``, so that the ``last_checkpoint`` pointer is
     written atomically (mmengine truncates it, then writes).

Each replaced object is checked first. ``import lszoo`` never fails because of mmengine: an
untested mmengine version, an unknown object or a missing source file is a warning there, and
the first checkpoint operation then stops with one :class:`MMEnginePatchError` (an
:class:`~lszoo.errors.LSZooError`: one ``lszoo: error:`` line from the tools). Setting the
environment variable ``LSZOO_NO_MMENGINE_PATCHES=1`` leaves mmengine's internals alone (3 and 4;
see ``docs/safety.md`` for what is then not protected).
"""
import builtins
import inspect
import io
import os
import os.path as osp
import warnings
from typing import List

from lszoo.errors import CheckpointError, LSZooError
from lszoo.utils.checkpoint import is_checkpoint_trusted, load_checkpoint_file, torch_load_safe
from lszoo.utils.fileio import atomic_write_bytes

TESTED_MMENGINE = '0.10'  # onedl-mmengine 0.10.x: the versions these patches were checked on
OPT_OUT_ENV = 'LSZOO_NO_MMENGINE_PATCHES'


class MMEnginePatchError(LSZooError, RuntimeError):
    """mmengine changed where lszoo patches it; the safety patches cannot be installed."""


class MMEnginePatchWarning(UserWarning):
    """At import: lszoo's mmengine patches will not install (see :class:`MMEnginePatchError`)."""


def opted_out() -> bool:
    """Whether ``LSZOO_NO_MMENGINE_PATCHES`` asks to leave mmengine's internals alone."""
    return os.environ.get(OPT_OUT_ENV, '').strip() not in ('', '0')


def load_from_local_safe(filename, map_location):
    """mmengine ``CheckpointLoader`` scheme for local files: :func:`load_checkpoint_file`
    (installs the internal patches first, see :func:`install_private`)."""
    install_private()
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
            install_private()  # the first checkpoint save of a plain mmengine Runner
            atomic_write_bytes(filepath, obj)

        def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
            atomic_write_bytes(filepath, obj.encode(encoding))

    return AtomicLocalBackend


AtomicLocalBackend = _atomic_local_backend()


def _mmengine_version() -> str:
    import mmengine
    return mmengine.__version__


def _public_problems() -> List[str]:
    """What keeps the public registrations from replacing mmengine's originals."""
    from mmengine.fileio.backends import LocalBackend, backends
    from mmengine.runner import checkpoint as mm_ckpt

    problems = []
    local = mm_ckpt.CheckpointLoader._get_checkpoint_loader('checkpoint.pth')
    if local not in (mm_ckpt.load_from_local, load_from_local_safe):
        problems.append("mmengine.runner.checkpoint.CheckpointLoader's local scheme")
    if backends.get('local') not in (LocalBackend, AtomicLocalBackend):
        problems.append("mmengine's 'local' file backend")
    return problems


def _pointer_write_known(checkpoint_hook) -> bool:
    try:
        return "open(save_file, 'w')" in inspect.getsource(checkpoint_hook)
    except (OSError, TypeError):  # installed without source files
        return False


def _private_problems() -> List[str]:
    """What keeps the internal patches from replacing mmengine's originals."""
    from mmengine.hooks import checkpoint_hook
    from mmengine.runner import checkpoint as mm_ckpt

    problems = []
    stl = getattr(mm_ckpt, '_safe_torch_load', None)
    if not (stl is strict_safe_torch_load or (
            callable(stl) and stl.__module__ == mm_ckpt.__name__
            and list(inspect.signature(stl).parameters) == ['file', 'map_location',
                                                            'weights_only'])):
        problems.append('mmengine.runner.checkpoint._safe_torch_load')
    if getattr(checkpoint_hook, 'open', builtins.open) not in (builtins.open, pointer_open) \
            or not _pointer_write_known(checkpoint_hook):
        problems.append('the last_checkpoint write of mmengine.hooks.checkpoint_hook (or its '
                        'source file is not installed)')
    return problems


def _error(problems: List[str]) -> MMEnginePatchError:
    return MMEnginePatchError(
        f'lszoo cannot install its checkpoint safety patches: {"; ".join(problems)} is not what '
        f'lszoo expects (mmengine {_mmengine_version()}; patches tested on '
        f'{TESTED_MMENGINE}.x). Install a tested mmengine, update '
        f'lszoo/engine/mmengine_patches.py, or set {OPT_OUT_ENV}=1 to run without the patches '
        'of mmengine internals (docs/safety.md)')


def _register() -> None:
    from mmengine.fileio.backends import register_backend
    from mmengine.runner import checkpoint as mm_ckpt

    mm_ckpt.CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_safe, force=True)
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')


def register_public() -> None:
    """On ``import lszoo``: the two registrations through mmengine's public API. Never raises:
    what would keep a patch from installing is a :class:`MMEnginePatchWarning` here."""
    problems = _public_problems() + ([] if opted_out() else _private_problems())
    if not _mmengine_version().startswith(TESTED_MMENGINE + '.'):
        warnings.warn(f'lszoo: mmengine {_mmengine_version()} is not a version its checkpoint '
                      f'patches were tested on ({TESTED_MMENGINE}.x)', MMEnginePatchWarning,
                      stacklevel=2)
    if problems:
        warnings.warn(str(_error(problems)) + '; checkpoint loading and saving will stop with '
                      'this error', MMEnginePatchWarning, stacklevel=2)
    if not _public_problems():
        _register()


def install_private() -> None:
    """Install the two patches of mmengine internals (idempotent; nothing with the opt-out
    environment variable). Raises :class:`MMEnginePatchError` if mmengine's objects are not the
    ones lszoo knows."""
    if opted_out() or private_installed():
        return
    from mmengine.hooks import checkpoint_hook
    from mmengine.runner import checkpoint as mm_ckpt

    problems = _private_problems()
    if problems:
        raise _error(problems)
    mm_ckpt._safe_torch_load = strict_safe_torch_load
    checkpoint_hook.open = pointer_open


def install() -> None:
    """Install all four patches (idempotent); raises :class:`MMEnginePatchError` if mmengine's
    objects are not the ones lszoo knows."""
    problems = _public_problems()
    if problems:
        raise _error(problems)
    _register()
    install_private()


def public_installed() -> bool:
    """Whether the two public registrations are in place."""
    from mmengine.fileio.backends import backends
    from mmengine.runner import checkpoint as mm_ckpt

    local = mm_ckpt.CheckpointLoader._get_checkpoint_loader('checkpoint.pth')
    return local is load_from_local_safe and backends.get('local') is AtomicLocalBackend


def private_installed() -> bool:
    """Whether the two patches of mmengine internals are in place."""
    from mmengine.hooks import checkpoint_hook
    from mmengine.runner import checkpoint as mm_ckpt

    return (mm_ckpt._safe_torch_load is strict_safe_torch_load
            and getattr(checkpoint_hook, 'open', None) is pointer_open)


def installed() -> bool:
    """Whether all four patches are in place (e.g. after another library re-registered one)."""
    return public_installed() and private_installed()
