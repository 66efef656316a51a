"""A hook that makes augmentation draws a function of the iteration, so resumed runs match.

Pipeline transforms (random crop, flip, noise, ...) draw from the global ``random`` / NumPy /
torch generators. When a run resumes at iteration k, mmengine's ``IterBasedTrainLoop`` skips the
first k batches at the sampler level without loading them, so the augmentations of batch k+1 see
a different generator state than in an uninterrupted run. This hook reseeds all three generators
from ``(seed, rank, iteration)`` right before each training batch is loaded; an interrupted and
resumed run then trains on exactly the same augmented batches (with ``num_workers=0``; worker
processes keep their own generators).
"""
import random

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.runner import BaseLoop

from mmseg.registry import HOOKS


@HOOKS.register_module()
class IterationSeedHook(Hook):
    """Reseed ``random``, NumPy and torch with ``(seed, rank, iteration)`` before every batch.

    Args:
        seed: base seed; ``None`` uses the runner's seed (``randomness.seed``).
    """

    priority = 'LOWEST'  # after the checkpoint hook, so a checkpoint never sees the reseed

    def __init__(self, seed=None) -> None:
        self.seed = seed

    def _reseed(self, runner, iteration: int) -> None:
        base = self.seed if self.seed is not None else (runner.seed or 0)
        state = np.random.SeedSequence([int(base), int(runner.rank), int(iteration)])
        value = int(state.generate_state(1)[0])
        random.seed(value)
        np.random.seed(value)
        torch.manual_seed(value)

    # batch k is loaded after: before_train (resume at k), after_train_iter(k - 1) and, when
    # validation runs at iteration k, after_val_epoch
    def before_train(self, runner) -> None:
        self._reseed(runner, runner.iter)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._reseed(runner, runner.iter + 1)

    def after_val_epoch(self, runner, metrics=None) -> None:
        if isinstance(getattr(runner, '_train_loop', None), BaseLoop):  # validation in training
            self._reseed(runner, runner.iter)
