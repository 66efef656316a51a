"""``LSZooRunner``: mmengine's ``Runner`` with a resume that trusts only complete checkpoints.

Checkpoint files and the ``last_checkpoint`` pointer are written atomically and every load goes
through the safe loader (:mod:`lszoo.engine.mmengine_patches`; this runner installs the patches
of mmengine internals when it is built).
This runner adds what mmengine's auto-resume lacks: it removes temporary files a killed save left
behind, and when ``last_checkpoint`` is empty, names a missing file or a file that is not a complete
checkpoint (runs written before lszoo was imported, files copied by hand), it resumes from the
newest complete checkpoint in the work dir instead of silently starting from scratch. It also
registers :class:`~lszoo.engine.hooks.NonFiniteLossHook` (``action='stop'``) and
:class:`~lszoo.engine.hooks.ProvenanceHook` unless the config already lists them (a config's
``custom_hooks`` list replaces its base's, so they are not put there). To skip non-finite steps
instead, add ``dict(type='NonFiniteLossHook', action='skip')`` to ``custom_hooks``.
``configs/_base_/default_runtime.py`` sets ``runner_type = 'LSZooRunner'``.
"""
import glob
import os
import os.path as osp
import zipfile
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.runner import Runner
from mmengine.runner.checkpoint import find_latest_checkpoint
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmseg.registry import RUNNERS

from lszoo.utils.fileio import TMP_MARK, remove_stale_temp_files
from lszoo.utils.runner import build_runner  # noqa: F401  (lszoo.engine.build_runner)


def is_complete_checkpoint(path: Optional[str]) -> bool:
    """Whether ``path`` is a whole ``torch.save`` zip file (its central directory is written last,
    so a truncated file fails). Says nothing about its content's safety."""
    return bool(path) and osp.isfile(path) and zipfile.is_zipfile(path)


def latest_complete_checkpoint(work_dir: str) -> Optional[str]:
    """The newest complete ``*.pth`` in ``work_dir`` (by modification time), or ``None``."""
    candidates = [p for p in glob.glob(osp.join(work_dir, '*.pth'))
                  if TMP_MARK not in p and is_complete_checkpoint(p)]
    if not candidates:
        return None
    return max(candidates, key=lambda p: (os.stat(p).st_mtime_ns, p))


@RUNNERS.register_module()
class LSZooRunner(Runner):
    """mmengine ``Runner`` whose auto-resume picks the last complete checkpoint, with the
    non-finite-loss and provenance hooks always on, and a quiet console
    (:mod:`lszoo.engine.console`: the settings in a few lines, the full dump in the log file)."""

    def __init__(self, *args, **kwargs):
        from .console import adapt_log_interval, run_summary
        from .mmengine_patches import install_private
        install_private()  # before any checkpoint is loaded or saved
        adapt_log_interval(kwargs.get('default_hooks'), kwargs.get('train_cfg'))
        self._console_log_file = None
        super().__init__(*args, **kwargs)
        for line in run_summary(self.cfg, self._console_log_file).splitlines():
            self.logger.info(line)

    def build_logger(self, log_level='INFO', log_file=None, **kwargs):
        """mmengine's logger, its console quietened (:func:`lszoo.engine.console.quiet_console`)."""
        from .console import quiet_console
        logger = super().build_logger(log_level, log_file, **kwargs)
        self._console_log_file = quiet_console(logger)
        return logger

    def setup_env(self, env_cfg) -> None:
        """mmengine's set-up, then the main process's torch threads (``env_cfg.torch_threads``,
        see :mod:`lszoo.engine.threads`)."""
        super().setup_env(env_cfg)
        import torch

        from .threads import choose_torch_threads
        n = choose_torch_threads(env_cfg.get('torch_threads'))
        if n is not None and n != torch.get_num_threads():
            torch.set_num_threads(n)
        self._worker_threads = env_cfg.get('worker_threads', 1)

    def build_dataloader(self, dataloader, seed=None, diff_rank_seed=False):
        """mmengine's data loader, its workers limited to ``env_cfg.worker_threads`` threads
        each (default 1) by :func:`lszoo.engine.threads.with_worker_threads`."""
        from mmengine.dist import get_rank

        from .threads import with_worker_threads
        threads = getattr(self, '_worker_threads', 1)
        dataloader = with_worker_threads(dataloader, seed, get_rank(), threads)
        return Runner.build_dataloader(dataloader, seed=seed, diff_rank_seed=diff_rank_seed)

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        super().register_hooks(default_hooks, custom_hooks)
        from .hooks.nonfinite_loss import NonFiniteLossHook
        from .hooks.provenance import ProvenanceHook
        for hook_type in (NonFiniteLossHook, ProvenanceHook):
            if not any(isinstance(h, hook_type) for h in self._hooks):
                self.register_hook(hook_type())

    def build_param_scheduler(self, scheduler):
        """mmengine's schedulers, ``begin_fraction`` / ``end_fraction`` first resolved from
        the run's length (:mod:`lszoo.engine.budget_schedule`)."""
        from .budget_schedule import resolve_fractions
        scheduler = resolve_fractions(scheduler, self.max_iters or None, self.max_epochs or None)
        return super().build_param_scheduler(scheduler)

    def find_resume_checkpoint(self) -> Optional[str]:
        """The checkpoint ``resume=True`` (without ``load_from``) continues from, or ``None``."""
        pointer = find_latest_checkpoint(self.work_dir)
        if pointer and not osp.isabs(pointer) and not osp.exists(pointer):
            pointer = osp.join(self.work_dir, pointer)
        if is_complete_checkpoint(pointer):
            return pointer
        fallback = latest_complete_checkpoint(self.work_dir)
        if pointer or fallback:
            self.logger.warning(
                f'{osp.join(self.work_dir, "last_checkpoint")} names {pointer!r}, which is not a '
                f'complete checkpoint; resuming from the newest complete one: {fallback}')
        return fallback

    def load_or_resume(self) -> None:
        """Load ``load_from`` or resume, like mmengine, but via :meth:`find_resume_checkpoint`."""
        if self._has_loaded:
            return None
        if is_main_process():
            for path in remove_stale_temp_files(self.work_dir):
                self.logger.info(f'removed {path}, left by a save that was interrupted')
        resume_from = None
        if self._resume and self._load_from is None:
            resume_from = self.find_resume_checkpoint()
            if resume_from is None:
                self.logger.warning(f'resume=True but {self.work_dir} holds no complete '
                                    'checkpoint: training starts from scratch')
            else:
                self.logger.info(f'Auto resumed from the latest checkpoint {resume_from}.')
        elif self._resume:
            resume_from = self._load_from
        if resume_from is not None:
            self.resume(resume_from)
            self._has_loaded = True
        elif self._load_from is not None:
            self.load_checkpoint(self._load_from)
            self._has_loaded = True


# tools/train.py builds ``RUNNERS.build(cfg)`` from mmengine's root registry before any default
# scope is set, and a registry looks up its parents, not its children: register there too.
MMENGINE_RUNNERS.register_module(module=LSZooRunner)
