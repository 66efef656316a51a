"""SafeRotationCheckpointHook: with ``max_keep_ckpts=1`` a run SIGKILLed at any stage of a save
resumes from the last complete checkpoint; a full disk gives one line and keeps the previous one.

Each kill happens in a forked child at the second save (iteration 4): before the new file is
written, half-way through writing it, and after it (and the pointer) are written but before the
old checkpoint is deleted. The control is mmengine's stock ``CheckpointHook``, killed before the
write: it has already deleted iteration 2, so nothing is left to resume from.
"""
import errno
import os
import signal
import sys
import time

import pytest
import torch

import lszoo  # noqa: F401
from lszoo.engine import mmengine_patches as lz_ckpt
from lszoo.engine.checkpoint import TMP_MARK, load_checkpoint_file
from lszoo.engine.runner import latest_complete_checkpoint
from lszoo.errors import CheckpointError, LSZooError

from helpers import build_runner, tiny_train_config, train_recording_iters


def _config(work_dir, iters, hook='SafeRotationCheckpointHook', resume=False):
    cfg = tiny_train_config(work_dir, iters=iters, interval=2, resume=resume,
                      checkpoint_kwargs=dict(max_keep_ckpts=1))
    cfg['default_hooks']['checkpoint']['type'] = hook
    return cfg


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


def _arm(stage):
    """In the child: SIGKILL this process at ``stage`` of the save of iteration 4."""
    backend = lz_ckpt.AtomicLocalBackend
    if stage == 'before':
        real_put = backend.put

        def put(self, obj, filepath):
            if str(filepath).endswith('iter_4.pth'):
                _die()
            return real_put(self, obj, filepath)
        backend.put = put
    elif stage == 'during':
        real_fsync = os.fsync

        def fsync(fd):
            target = os.readlink(f'/proc/self/fd/{fd}')
            if target.endswith(f'.iter_4.pth{TMP_MARK}{os.getpid()}'):
                os.ftruncate(fd, os.fstat(fd).st_size // 2)  # half of the bytes on disk
                _die()
            return real_fsync(fd)
        os.fsync = fsync
    elif stage == 'after':
        real_remove = backend.remove

        def remove(self, filepath):
            if str(filepath).endswith('iter_2.pth'):
                _die()
            return real_remove(self, filepath)
        backend.remove = remove


def _killed_run(work_dir, stage, hook='SafeRotationCheckpointHook', timeout=300):
    pid = os.fork()
    if pid == 0:  # child: train 6 iterations, killed during the save of iteration 4
        try:
            # GNU OpenMP's thread pool does not survive fork: a child that runs a parallel
            # region of a pool the parent used waits forever. One thread uses no pool.
            torch.set_num_threads(1)
            _arm(stage)
            build_runner(_config(work_dir, 6, hook)).train()
        finally:
            os._exit(3)  # only reached if the kill did not happen
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f'the training child did not end within {timeout} s')
        time.sleep(0.05)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status


def _resume(work_dir):
    return train_recording_iters(build_runner(_config(work_dir, 6, resume=True)))


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='fork, /proc/self/fd')
@pytest.mark.parametrize('stage,resumed_at', [('before', 2), ('during', 2), ('after', 4)])
def test_kill_at_each_stage_of_save_resumes_from_last_complete(tmp_path, stage, resumed_at):
    work = tmp_path / 'run'
    _killed_run(work, stage)
    pointer = (work / 'last_checkpoint').read_text().strip()
    assert pointer == str(work / f'iter_{resumed_at}.pth')
    assert load_checkpoint_file(pointer)['meta']['iter'] == resumed_at
    if stage == 'after':  # the new checkpoint is complete; the old one was not yet deleted
        assert (work / 'iter_2.pth').is_file()
    else:
        assert not (work / 'iter_4.pth').exists()

    seen = _resume(work)
    assert seen == list(range(resumed_at, 6))  # continued, not restarted from scratch
    # rotation completed: only the newest checkpoint is left, no temporary files
    assert sorted(p.name for p in work.glob('*.pth')) == ['iter_6.pth']
    assert not [p for p in os.listdir(work) if TMP_MARK in p]
    assert load_checkpoint_file(work / 'iter_6.pth')['meta']['iter'] == 6


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='fork')
def test_control_stock_hook_loses_everything(tmp_path):
    work = tmp_path / 'run'
    _killed_run(work, 'before', hook='CheckpointHook')
    assert not (work / 'iter_2.pth').exists()  # deleted before iteration 4 was written
    assert latest_complete_checkpoint(str(work)) is None


def test_disk_full_during_save_is_one_line_and_keeps_previous(tmp_path, monkeypatch):
    work = tmp_path / 'run'
    real_fsync = os.fsync

    def fsync(fd):
        if os.readlink(f'/proc/self/fd/{fd}').endswith(f'.iter_4.pth{TMP_MARK}{os.getpid()}'):
            raise OSError(errno.ENOSPC, 'No space left on device')
        return real_fsync(fd)

    monkeypatch.setattr(os, 'fsync', fsync)
    with pytest.raises(CheckpointError) as info:
        build_runner(_config(work, 6)).train()
    msg = str(info.value)
    assert isinstance(info.value, LSZooError) and '\n' not in msg
    assert msg.startswith(f'cannot write checkpoint {work / "iter_4.pth"}: No space left on '
                          'device (errno 28); the previous checkpoint ')
    assert str(work / 'iter_2.pth') in msg and '--resume' in msg
    monkeypatch.undo()
    assert load_checkpoint_file(work / 'iter_2.pth')['meta']['iter'] == 2
    assert (work / 'last_checkpoint').read_text().strip() == str(work / 'iter_2.pth')
    assert not (work / 'iter_4.pth').exists()
    assert not [p for p in os.listdir(work) if TMP_MARK in p]  # the partial file was removed


def test_previous_best_is_deleted_only_after_the_new_best_is_written(tmp_path, monkeypatch):
    work = tmp_path / 'run'
    cfg = _config(work, 2)
    cfg['default_hooks']['checkpoint'].update(save_best='mIoU', rule='greater')
    runner = build_runner(cfg)
    runner.train()
    hook = next(h for h in runner.hooks if type(h).__name__ == 'SafeRotationCheckpointHook')
    events = []
    backend = lz_ckpt.AtomicLocalBackend
    real_put, real_remove = backend.put, backend.remove
    monkeypatch.setattr(backend, 'put', lambda self, obj, p: (
        events.append(('put', os.path.basename(p))), real_put(self, obj, p))[1])
    monkeypatch.setattr(backend, 'remove', lambda self, p: (
        events.append(('remove', os.path.basename(p))), real_remove(self, p))[1])
    hook._save_best_checkpoint(runner, {'mIoU': 0.1})
    runner.train_loop._iter = 3
    hook._save_best_checkpoint(runner, {'mIoU': 0.2})
    new, old = ('put', 'best_mIoU_iter_3.pth'), ('remove', 'best_mIoU_iter_2.pth')
    assert new in events and old in events
    assert events.index(new) < events.index(old), events
    assert sorted(p.name for p in work.glob('best_*.pth')) == ['best_mIoU_iter_3.pth']
    hook._save_best_checkpoint(runner, {'mIoU': 0.15})  # not better: nothing changes
    assert sorted(p.name for p in work.glob('best_*.pth')) == ['best_mIoU_iter_3.pth']
    assert 'remove' not in vars(hook.file_backend)  # the deferral is undone
