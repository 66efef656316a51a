"""The one way lszoo writes files: atomically, under one temporary-name convention.

Every writer (checkpoints, scene rasters and polygons, COG, STAC, quicklook, ONNX, JSON records)
writes a hidden temporary file beside its target, ``.<name>.lszoo-tmp-<pid>`` (plus a suffix
where the writer needs one, e.g. ``.png`` for OpenCV), fsyncs it and ``os.replace``-s it over
the target, then fsyncs the folder: the target is always the old file or the complete new one.
A temporary is removed on any error; one left by a killed process (no cleanup possible) is
removed by :func:`remove_stale_temp_files` once its process is gone.
"""
import hashlib
import json
import os
import os.path as osp
import re
from contextlib import contextmanager
from typing import Iterator, List, Optional

TMP_MARK = '.lszoo-tmp-'
_TEMP_RE = re.compile(r'^\.(?P<name>.+)' + re.escape(TMP_MARK) + r'(?P<pid>\d+)(?:\.[\w.-]+)?$')


def temp_path(path, suffix: str = '') -> str:
    """The temporary file ``path`` is written to: ``.<name>.lszoo-tmp-<pid><suffix>`` in the
    same folder (same filesystem, so the final rename is atomic)."""
    if suffix and not suffix.startswith('.'):
        raise ValueError(f'temporary-name suffix must start with ".", got {suffix!r}')
    head, tail = osp.split(os.fspath(path))
    return osp.join(head, f'.{tail}{TMP_MARK}{os.getpid()}{suffix}')


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a process owned by someone else counts as alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: someone else's live process
        return True
    return True


def fsync_dir(dirname: str) -> None:
    """fsync a folder so that a rename in it survives a power cut (best effort)."""
    try:
        fd = os.open(dirname or '.', os.O_RDONLY)
    except OSError:  # platforms that cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


@contextmanager
def _publishing(path, suffix: str, synced: bool) -> Iterator[str]:
    path = os.fspath(path)
    tmp = temp_path(path, suffix)
    try:
        yield tmp
        if not synced:
            _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise
    fsync_dir(osp.dirname(path))


def atomic_path(path, suffix: str = ''):
    """Context manager yielding a temporary path for a writer that needs a file name (GDAL,
    ``torch.save``, ONNX, OpenCV); on success the file is fsynced and renamed over ``path``, on
    any error removed.

    ``suffix`` is appended to the temporary name for writers that choose the format by
    extension. The folder must exist.
    """
    return _publishing(path, suffix, synced=False)


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (its folder is created when missing)."""
    path = os.fspath(path)
    if osp.dirname(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
    with _publishing(path, '', synced=True) as tmp, open(tmp, 'wb') as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def atomic_write_text(path, text: str, encoding: str = 'utf-8') -> None:
    """Write ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path, obj, indent: Optional[int] = 2, **dumps_kwargs) -> None:
    """Write ``obj`` as JSON (with a final newline) to ``path`` atomically."""
    atomic_write_text(path, json.dumps(obj, indent=indent, **dumps_kwargs) + '\n')


def temp_owner(name: str, target: Optional[str] = None) -> Optional[int]:
    """The pid in a temporary file name of the convention (of ``target``'s, when given), else
    ``None``."""
    m = _TEMP_RE.match(name)
    if m is None or (target is not None and m.group('name') != target):
        return None
    return int(m.group('pid'))


def remove_stale_temp_files(dirname, target: Optional[str] = None) -> List[str]:
    """Delete the temporaries in ``dirname`` (only ``target``'s, a file name, when given) whose
    writing process is gone; returns their paths. Those of live processes are left alone."""
    dirname = os.fspath(dirname)
    removed = []
    if not osp.isdir(dirname):
        return removed
    for name in sorted(os.listdir(dirname)):
        pid = temp_owner(name, target)
        if pid is None or pid_alive(pid):
            continue
        try:
            os.remove(osp.join(dirname, name))
            removed.append(osp.join(dirname, name))
        except OSError:
            pass
    return removed


def sha256_file(path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def sha256_text(text: str) -> str:
    """Hex SHA-256 of a string's UTF-8 bytes."""
    return hashlib.sha256(text.encode()).hexdigest()


def atomic_savefig(fig, path, **savefig_kwargs) -> None:
    """``fig.savefig(path)`` atomically (a matplotlib figure; format from ``path``'s extension),
    then the figure is closed."""
    import matplotlib.pyplot as plt
    fmt = savefig_kwargs.pop('format', None) or osp.splitext(os.fspath(path))[1][1:] or 'png'
    try:
        with atomic_path(path, '.' + fmt) as tmp:
            fig.savefig(tmp, format=fmt, **savefig_kwargs)
    finally:
        plt.close(fig)
