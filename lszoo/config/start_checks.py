"""Checks of the checkpoint a training run starts from, before the first training step.

mmengine loads ``load_from`` non-strictly: a checkpoint of another model (or another band
selection) loads what fits, logs the size mismatches and trains on with random layers. A
``--resume`` checkpoint of another band set fails mid-run inside the optimizer (Adam's state has
the old shapes). :func:`check_start_checkpoint` compares the checkpoint's state dict with the
model the runner built (:func:`lszoo.utils.checkpoint.check_state_dict_fits`, lszoo's one fit
check) and raises a :class:`~lszoo.errors.CheckpointError` listing what does not fit. Loading
only what fits is an explicit choice for ``load_from``: ``--partial-load`` (config key
``load_from_partial = True``), e.g. to fine-tune a model on a dataset with other classes, where
the new head starts from scratch. Resuming always needs the whole checkpoint to fit.
"""
import os.path as osp
from typing import Optional, Tuple

from lszoo.errors import CheckpointError

PARTIAL_HINT = ('. To load only the tensors that fit and start the others from scratch (e.g. '
                'fine-tuning on a dataset with other classes), pass --partial-load '
                '(load_from_partial = True in the config)')
RESUME_HINT = ('. --resume continues the very run that wrote the checkpoint: same model, same '
               'bands. To start a new model from it, use load_from (with --partial-load) and a '
               'new work dir')


def start_checkpoint(runner) -> Tuple[Optional[str], bool]:
    """``(path, resuming)`` of the checkpoint ``runner.train()`` will load, or ``(None, False)``.

    Mirrors mmengine's rule: ``resume`` with ``load_from`` resumes from that file; ``resume``
    alone from the work dir's latest complete checkpoint (``LSZooRunner``); ``load_from`` alone
    loads weights only.
    """
    cfg = runner.cfg
    load_from, resume = cfg.get('load_from'), bool(cfg.get('resume', False))
    if resume and load_from:
        return load_from, True
    if resume:
        find = getattr(runner, 'find_resume_checkpoint', None)
        if find is None:
            from mmengine.runner.checkpoint import find_latest_checkpoint
            return find_latest_checkpoint(runner.work_dir), True
        return find(), True
    return load_from, False


def check_start_checkpoint(runner, partial: bool = False) -> Optional[str]:
    """Raise :class:`CheckpointError` if the start checkpoint does not fit the runner's model.

    With ``partial`` (``load_from`` only) a misfit is logged as a warning listing what is not
    loaded. Remote checkpoints (``http://``, ``open-mmlab://``, ...) are not checked. Returns the
    checked path (or ``None``).
    """
    from lszoo.utils.checkpoint import check_state_dict_fits, load_state_dict

    path, resuming = start_checkpoint(runner)
    if not path or '://' in str(path):
        return None
    if not osp.isfile(path):
        what = '--resume' if resuming else 'load_from'
        raise CheckpointError(f'{what}: checkpoint file {path} does not exist')
    model = getattr(runner.model, 'module', runner.model)
    state = load_state_dict(path)
    what = f'--resume checkpoint {path}' if resuming else f'load_from checkpoint {path}'
    target = 'the model of this config'
    try:
        check_state_dict_fits(state, model, what, target,
                              hint=RESUME_HINT if resuming else PARTIAL_HINT)
    except CheckpointError as err:
        if resuming or not partial:
            raise
        runner.logger.warning(f'--partial-load: {str(err).split(". To load only")[0]}; '
                              'these tensors keep their initial values')
    return path
