"""Atomic checkpoints: a run killed (SIGKILL) while saving resumes from the previous checkpoint.

The kill test runs training in a child process whose save is made to stop half-way (half of the
new checkpoint's bytes on disk, then sleep) and SIGKILLs it there. With lszoo's atomic writes the
previous checkpoint survives and ``resume=True`` continues from it; the same kill with mmengine's
stock local backend (the control) leaves a truncated, unloadable checkpoint.
"""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import lszoo  # noqa: F401
from lszoo.engine import mmengine_patches
from lszoo.engine.checkpoint import (TMP_MARK, atomic_write_bytes, load_checkpoint_file,
                                     remove_stale_temp_files)
from lszoo.errors import CheckpointError

from helpers import TESTS, build_runner, tiny_train_config, train_recording_iters

CHILD = textwrap.dedent('''
    import os, sys, time
    mode, work_dir = sys.argv[1], sys.argv[2]
    marker = os.path.join(work_dir, 'IN_SAVE')
    import lszoo  # atomic writes installed here
    from helpers import build_runner, tiny_train_config
    calls = []

    def stall(path_hint):
        calls.append(path_hint)
        return len(calls) == 2   # the second save (iteration 4) is interrupted

    if mode == 'lszoo':
        real_fsync = os.fsync
        def fsync(fd):
            target = os.readlink('/proc/self/fd/%d' % fd)
            if target.endswith('.latest.pth{mark}%d' % os.getpid()) and stall(target):
                os.ftruncate(fd, os.fstat(fd).st_size // 2)   # half of the bytes reached disk
                open(marker, 'w').close()
                time.sleep(600)
            return real_fsync(fd)
        os.fsync = fsync
    else:  # stock mmengine: plain open('wb') + write into the final name
        import builtins
        from mmengine.fileio.backends import LocalBackend, register_backend
        from mmengine.hooks import checkpoint_hook
        register_backend('local', LocalBackend, force=True, prefixes='')
        checkpoint_hook.open = builtins.open
        real_put = LocalBackend.put
        def put(self, obj, filepath):
            if str(filepath).endswith('latest.pth') and stall(filepath):
                with open(filepath, 'wb') as f:
                    f.write(obj[:len(obj) // 2])
                open(marker, 'w').close()
                time.sleep(600)
            return real_put(self, obj, filepath)
        LocalBackend.put = put

    cfg = tiny_train_config(work_dir, iters=4, interval=2,
                      checkpoint_kwargs=dict(filename_tmpl='latest.pth'))
    build_runner(cfg).train()
''')


def _start_child(tmp_path, mode):
    work_dir = tmp_path / f'{mode}_run'  # not 'lszoo/': the child's sys.path[0] is tmp_path
    work_dir.mkdir()
    child = tmp_path / 'child.py'
    child.write_text(CHILD.format(mark=TMP_MARK))
    log = open(tmp_path / f'{mode}.log', 'w')
    proc = subprocess.Popen([sys.executable, str(child), mode, str(work_dir)], stdout=log,
                            stderr=subprocess.STDOUT,
                            env=dict(os.environ, PYTHONWARNINGS='ignore',
                                     PYTHONPATH=os.pathsep.join(
                                         [TESTS, os.environ.get('PYTHONPATH', '')])))
    return proc, log, work_dir


def _kill_when_in_save(tmp_path, proc, log, work_dir, mode):
    marker = work_dir / 'IN_SAVE'
    deadline = time.time() + 300
    try:
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail(f'{mode} child exited ({proc.returncode}) before the second save:\n'
                            + (tmp_path / f'{mode}.log').read_text()[-3000:])
            if time.time() > deadline:
                pytest.fail(f'{mode} child never reached the second save')
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='uses /proc/self/fd')
def test_sigkill_during_save_keeps_previous_checkpoint_and_resumes(tmp_path):
    # both children run at once: lszoo's atomic saving, and the stock-mmengine control
    children = {mode: _start_child(tmp_path, mode) for mode in ('lszoo', 'stock')}
    for mode, (proc, log, work_dir) in children.items():
        _kill_when_in_save(tmp_path, proc, log, work_dir, mode)

    # control: the same kill corrupts the only checkpoint of a stock mmengine run
    with pytest.raises(CheckpointError, match='not a PyTorch checkpoint'):
        load_checkpoint_file(tmp_path / 'stock_run' / 'latest.pth')

    proc, _, work_dir = children['lszoo']
    ckpt = work_dir / 'latest.pth'
    # the interrupted save left only its temporary file, half written
    leftovers = [p for p in os.listdir(work_dir) if TMP_MARK in p]
    assert leftovers == [f'.latest.pth{TMP_MARK}{proc.pid}']
    with pytest.raises(CheckpointError):
        load_checkpoint_file(work_dir / leftovers[0])
    # the previous checkpoint is intact, and the pointer names it
    assert load_checkpoint_file(ckpt)['meta']['iter'] == 2
    assert (work_dir / 'last_checkpoint').read_text().strip() == str(ckpt)

    runner = build_runner(tiny_train_config(work_dir, iters=4, interval=2, resume=True,
                                      checkpoint_kwargs=dict(filename_tmpl='latest.pth')))
    assert train_recording_iters(runner) == [2, 3]  # resumed after iteration 2, not from scratch
    assert load_checkpoint_file(ckpt)['meta']['iter'] == 4
    assert not [p for p in os.listdir(work_dir) if TMP_MARK in p]  # stale temp removed


# ------------------------------------------------------------------ units


def test_atomic_write_replaces_or_keeps_old(tmp_path, monkeypatch):
    path = tmp_path / 'sub' / 'f.bin'
    atomic_write_bytes(path, b'old')
    assert path.read_bytes() == b'old'

    def boom(fd):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'fsync', boom)
    with pytest.raises(OSError, match='disk full'):
        atomic_write_bytes(path, b'new content')
    assert path.read_bytes() == b'old'
    assert os.listdir(path.parent) == ['f.bin']  # the temporary file was cleaned up


def test_mmengine_local_backend_writes_atomically(tmp_path):
    from mmengine.fileio import get_file_backend
    backend = get_file_backend(str(tmp_path / 'x.pth'))
    assert type(backend).__name__ == 'AtomicLocalBackend'
    backend.put(b'abc', tmp_path / 'x.pth')
    backend.put_text('hi', tmp_path / 'y.txt')
    assert (tmp_path / 'x.pth').read_bytes() == b'abc'
    assert (tmp_path / 'y.txt').read_text() == 'hi'


def test_last_checkpoint_pointer_is_never_truncated(tmp_path):
    from mmengine.hooks import checkpoint_hook
    mmengine_patches.install_private()  # what LSZooRunner / the first checkpoint load do
    pointer = tmp_path / 'last_checkpoint'
    pointer.write_text('/w/iter_2.pth')
    with checkpoint_hook.open(str(pointer), 'w') as f:
        f.write('/w/iter_4.pth')
        assert pointer.read_text() == '/w/iter_2.pth'  # old pointer until the write completes
    assert pointer.read_text() == '/w/iter_4.pth'
    with pytest.raises(RuntimeError):
        with checkpoint_hook.open(str(pointer), 'w') as f:
            f.write('/w/iter_')
            raise RuntimeError('killed mid-write')
    assert pointer.read_text() == '/w/iter_4.pth'
    # every other file opened by that module is untouched
    with checkpoint_hook.open(str(tmp_path / 'other'), 'w') as f:
        assert not isinstance(f, mmengine_patches.AtomicTextFile)


def test_remove_stale_temp_files(tmp_path):
    stale = tmp_path / f'.iter_4.pth{TMP_MARK}99999999'
    stale.write_bytes(b'half')
    mine = tmp_path / f'.iter_6.pth{TMP_MARK}{os.getpid()}'
    mine.write_bytes(b'in progress')
    keep = tmp_path / 'iter_2.pth'
    keep.write_bytes(b'x')
    assert remove_stale_temp_files(tmp_path) == [str(stale)]
    assert sorted(os.listdir(tmp_path)) == sorted([mine.name, keep.name])


def test_resume_falls_back_to_newest_complete_checkpoint(tmp_path):
    """A pointer that is empty or names a truncated file (e.g. written by a run without lszoo)
    does not make ``resume`` start from scratch."""
    import shutil
    src = tmp_path / 'src'
    build_runner(tiny_train_config(src, iters=2, interval=2)).train()
    work = tmp_path / 'work'
    work.mkdir()
    shutil.copy(src / 'iter_2.pth', work / 'iter_2.pth')
    data = (src / 'iter_2.pth').read_bytes()
    (work / 'iter_4.pth').write_bytes(data[:len(data) // 2])  # truncated: newer mtime
    runner = build_runner(tiny_train_config(work, iters=4, interval=2, resume=True))
    (work / 'last_checkpoint').write_text(str(work / 'iter_4.pth'))
    assert runner.find_resume_checkpoint() == str(work / 'iter_2.pth')
    (work / 'last_checkpoint').write_text('')
    assert runner.find_resume_checkpoint() == str(work / 'iter_2.pth')
    (work / 'last_checkpoint').write_text(str(work / 'iter_2.pth'))
    assert runner.find_resume_checkpoint() == str(work / 'iter_2.pth')
    os.remove(work / 'iter_2.pth')
    assert runner.find_resume_checkpoint() is None
