"""``SafeRotationCheckpointHook``: checkpoint rotation that never deletes the last good checkpoint.

mmengine's ``CheckpointHook`` with ``max_keep_ckpts=k`` deletes the oldest kept checkpoint
*before* it writes the new one, so with ``k=1`` a run killed during the save (or a full disk) has
no checkpoint at all and ``--resume`` starts from scratch. It also deletes the previous best
checkpoint before writing the new best. This subclass changes only the order:

1. write the new checkpoint (atomically, through lszoo's local backend) and then the
   ``last_checkpoint`` pointer;
2. only then delete the checkpoints that fell out of the ``max_keep_ckpts`` window.

The checkpoint written in step 1 records the not-yet-deleted steps in ``keep_ckpt_ids``, so a run
killed between 1 and 2 and resumed from it deletes them in ``before_train`` (never the checkpoint
it resumed from). A save that fails with an ``OSError`` (disk full, quota, read-only) raises a
one-line :class:`~lszoo.errors.CheckpointError`; the previous checkpoint and the pointer are left
as they were. ``configs/_base_/schedules/adam_iter.py`` uses this hook; its arguments are
``CheckpointHook``'s.
"""
import os.path as osp
from collections import deque
from typing import List

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmseg.registry import HOOKS

from lszoo.utils.fileio import atomic_write_bytes
from lszoo.errors import CheckpointError


def save_error_message(path: str, err: OSError, previous) -> str:
    """One line saying which checkpoint could not be written, why, and what is still there."""
    reason = err.strerror or str(err)
    kept = (f'the previous checkpoint {previous} is intact' if previous else
            'no earlier checkpoint of this run exists')
    return (f'cannot write checkpoint {path}: {reason} (errno {err.errno}); {kept}. Free space '
            '(or fix the folder), then continue with `tools/train.py CONFIG --resume`')


@HOOKS.register_module()
class SafeRotationCheckpointHook(CheckpointHook):
    """``CheckpointHook`` that saves first and rotates (deletes old checkpoints) afterwards."""

    def before_train(self, runner) -> None:
        pending = []
        hub = runner.message_hub
        if self.max_keep_ckpts > 0 and 'keep_ckpt_ids' in hub.runtime_info:
            ids = list(hub.get_info('keep_ckpt_ids'))
            pending = ids[:-self.max_keep_ckpts]  # a rotation the previous run did not finish
            hub.update_info('keep_ckpt_ids', ids[-self.max_keep_ckpts:])
        super().before_train(runner)
        self._remove_steps(runner, pending)

    def _step_path(self, step) -> str:
        return self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(step))

    def _remove_steps(self, runner, steps: List) -> None:
        """Delete the checkpoints of ``steps``, except files still named by a kept step."""
        if not steps or not is_main_process():
            return
        kept = {self._step_path(s) for s in getattr(self, 'keep_ckpt_ids', ())}
        if self.last_ckpt:
            kept.add(self.last_ckpt)
        for step in steps:
            path = self._step_path(step)
            if path in kept:  # e.g. filename_tmpl without '{}': the same file was re-saved
                continue
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # deepspeed checkpoints are folders
                self.file_backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step, meta):
        hub = runner.message_hub
        stale = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            ids = list(self.keep_ckpt_ids) + [step]
            stale = ids[:-self.max_keep_ckpts]
            self.keep_ckpt_ids = deque(ids[-self.max_keep_ckpts:], self.max_keep_ckpts)
            hub.update_info('keep_ckpt_ids', ids)  # saved with the checkpoint: see before_train

        previous = self.last_ckpt
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        hub.update_info('last_ckpt', self.last_ckpt)
        try:
            runner.save_checkpoint(
                self.out_dir, filename, self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler, meta=meta,
                by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
            if is_main_process():
                atomic_write_bytes(osp.join(runner.work_dir, 'last_checkpoint'),
                                   self.last_ckpt.encode('utf-8'))
        except OSError as err:
            raise CheckpointError(save_error_message(self.last_ckpt, err, previous)) from None
        hub.update_info('keep_ckpt_ids', list(getattr(self, 'keep_ckpt_ids', [])))
        self._remove_steps(runner, stale)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """mmengine's best-checkpoint logic, with the previous best deleted after the new one
        is written instead of before."""
        if not self.save_best or not is_main_process():
            return super()._save_best_checkpoint(runner, metrics)
        deferred = []
        backend = self.file_backend
        backend.remove = deferred.append  # instance attribute: shadows the method for now
        backend.rmtree = deferred.append
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            del backend.remove, backend.rmtree
        current = {getattr(self, 'best_ckpt_path', None), self.last_ckpt}
        current.update(getattr(self, 'best_ckpt_path_dict', {}).values())
        for path in deferred:
            if path in current:
                continue
            if backend.isfile(path):
                backend.remove(path)
            elif backend.isdir(path):
                backend.rmtree(path)
