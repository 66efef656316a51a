"""A validation split for the real benchmark: keep the best checkpoint of a longer run.

``python -m benchmarks.real --validate N`` holds every fourth training image out (sorted
positions 3, 7, 11, ... of the training stems: 6 of Bijie's 24, 5 of Nepal's 21), scores them
``N`` times during the run with :class:`~lszoo.evaluation.LandslideMetric` and keeps the
checkpoint with the best landslide IoU (mmengine's ``CheckpointHook(save_best=...)``); the test
images are never seen before the test. The row then scores that checkpoint and, beside it, the
last one, so one run shows what stopping at the best validation point gains over training to the
end. Why: at 1500 iterations on 24 images every baseline overfits (docs/benchmarks/recipes.md
section 6).
"""
import os
import os.path as osp
import re

from lszoo.errors import CheckpointError, ConfigError

#: every fourth training stem (sorted positions 3, 7, ...) validates
EVERY = 4
#: the validation metric that picks the checkpoint (LandslideMetric's landslide-class IoU)
KEY = 'IoU'


def carve(train):
    """``(train, val)``: the training stems without, and with, every fourth one."""
    train = sorted(train)
    val = train[EVERY - 1::EVERY]
    if not val:
        raise ConfigError(f'--validate: {len(train)} training image(s) leave none to validate '
                          f'on (every {EVERY}th is held out)')
    held_out = set(val)
    return [s for s in train if s not in held_out], val


def add_validation(cfg, val_dataset: dict, iters: int, times: int) -> None:
    """Validate ``times`` times over the run (evenly, the last at the end) on ``val_dataset``
    and keep the best checkpoint by landslide IoU beside the last one (1 <= times <= iters)."""
    cfg.val_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              dataset=val_dataset)
    cfg.val_evaluator = dict(type='LandslideMetric')
    cfg.val_cfg = dict(type='ValLoop')
    cfg.train_cfg.val_interval = iters // times
    cfg.default_hooks.checkpoint.update(save_best=KEY, rule='greater')


def best_checkpoint(work_dir: str):
    """``(path, iteration)`` of the best checkpoint ``CheckpointHook`` kept in ``work_dir``."""
    found = [(int(m.group(1)), name) for name in os.listdir(work_dir)
             if (m := re.fullmatch(rf'best_{KEY}_iter_(\d+)\.pth', name))]
    if len(found) != 1:
        raise CheckpointError(f'{work_dir}: expected one best_{KEY}_iter_N.pth, found '
                              f'{[n for _, n in found] or "none"} (did validation run?)')
    iteration, name = found[0]
    return osp.join(work_dir, name), iteration
