"""One writer per output file: a lock file beside it, created atomically, holding the pid.

Two runs writing the same output at once would each write a temporary file and rename it over
the target (:mod:`lszoo.utils.fileio`), the last one silently replacing the other's result. A
run first creates ``.<name>.lszoo-lock`` beside each output with ``O_CREAT | O_EXCL`` (only one
process can create it) holding its pid, and removes it when done. A second run stops at once
with ``<output> is being written by process N``. A lock whose process is gone (a run killed
with SIGKILL) is taken over with a note (:class:`StaleLockWarning`); the lock holds the host
name too, and a lock of another host (a shared filesystem) is never taken over. Taking over a
stale lock is best effort: two runs that find one stale lock in the same instant may both go on.
"""
import os
import os.path as osp
import socket
import time
import warnings
from contextlib import ExitStack, contextmanager
from typing import Dict, Iterator, Optional, Tuple

from lszoo.errors import DataError, LSZooWarning

from .fileio import pid_alive

LOCK_MARK = '.lszoo-lock'


class StaleLockWarning(LSZooWarning):
    """A lock left by a process that no longer runs was taken over."""


def lock_path(path: str) -> str:
    """The lock file of output ``path``: ``.<name>.lszoo-lock`` in the same folder."""
    head, tail = osp.split(osp.abspath(path))
    return osp.join(head, f'.{tail}{LOCK_MARK}')


def _owner(lock: str) -> Tuple[Optional[int], Optional[str]]:
    """``(pid, host)`` a lock file holds; ``(None, None)`` when it is gone or not written yet."""
    try:
        with open(lock) as f:
            parts = f.read().split()
    except FileNotFoundError:
        return None, None
    if not parts or not parts[0].isdigit():
        return None, None
    return int(parts[0]), (parts[1] if len(parts) > 1 else None)


def _stale(lock: str, pid: Optional[int], host: Optional[str]) -> bool:
    """The holder is gone: a pid of this host that no longer runs, or a lock left empty for
    over 10 s (its creator died before writing its pid). A pid of another host (a shared
    filesystem) is never judged."""
    if pid is None:
        try:
            return time.time() - os.stat(lock).st_mtime > 10
        except FileNotFoundError:
            return True
    return host in (None, socket.gethostname()) and not pid_alive(pid)


def _create(lock: str) -> bool:
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, 'w') as f:
        f.write(f'{os.getpid()} {socket.gethostname()}\n')
    return True


def acquire(path: str, what: str = 'output') -> str:
    """Create the lock of ``path``; returns the lock file.

    Raises:
        DataError: another live process holds it.
    """
    lock = lock_path(path)
    for _ in range(3):
        if _create(lock):
            return lock
        pid, host = _owner(lock)
        if not _stale(lock, pid, host):
            who = f'process {pid}' if pid is not None else 'another process'
            who += f' on {host}' if host not in (None, socket.gethostname()) else ''
            raise DataError(f'{what} {path} is being written by {who} (lock file {lock}); '
                            'wait until it finishes or write to another path')
        if _owner(lock) == (pid, host):  # still the same stale lock: take it over
            try:
                os.remove(lock)
            except FileNotFoundError:
                pass
            warnings.warn(f'{what} {path}: took over the lock of process {pid}, which no '
                          f'longer runs ({lock})', StaleLockWarning, stacklevel=3)
    raise DataError(f'{what} {path}: could not take its lock file {lock}')


def release(lock: str) -> None:
    """Remove ``lock`` if this process holds it."""
    if _owner(lock) == (os.getpid(), socket.gethostname()):
        try:
            os.remove(lock)
        except FileNotFoundError:
            pass


@contextmanager
def output_locks(outputs: Dict[str, Optional[str]]) -> Iterator[None]:
    """Hold the lock of every output (option name -> path; ``None`` skipped) for the block."""
    with ExitStack() as stack:
        for what, path in outputs.items():
            if path:
                stack.callback(release, acquire(path, what))
        yield
