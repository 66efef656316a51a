"""Calibrate the decision threshold on the validation split when training ends.

A config opts in with ``custom_hooks = [dict(type='CalibrateThresholdHook')]``. When the last
iteration is done and the checkpoint hook has saved its last checkpoint, the hook runs
:func:`lszoo.evaluation.calibrate_threshold` (what ``tools/test.py --calibrate`` runs) on the
checkpoints training leaves behind: the last one and, with ``save_best``, the best one(s). Each
gets its sidecar ``<checkpoint>.calibration.json``; ``tools/test.py``, scene mapping and the ONNX
export then use that threshold (:func:`lszoo.evaluation.resolve_threshold`), and the log says
which threshold was stored where. Without a validation split the run stops before training; a
calibration that the data cannot support (no landslide pixel in the split, a model that ranks
background above landslide) is a warning in the log, not a failed run: the checkpoints stay.
"""
import os.path as osp
from typing import List

from mmengine.hooks import Hook
from mmengine.runner import find_latest_checkpoint
from mmseg.registry import HOOKS

from lszoo.errors import ConfigError, DataError

CHECKPOINTS = ('last', 'best')


@HOOKS.register_module()
class CalibrateThresholdHook(Hook):
    """Calibrate the landslide threshold of the checkpoints a training run leaves.

    Args:
        checkpoints: which ones: ``'last'`` (the newest saved checkpoint) and/or ``'best'``
            (every ``save_best`` checkpoint). Default both.
    """

    priority = 'LOWEST'  # after CheckpointHook (VERY_LOW) has saved the last checkpoint

    def __init__(self, checkpoints=CHECKPOINTS):
        checkpoints = (checkpoints, ) if isinstance(checkpoints, str) else tuple(checkpoints)
        unknown = sorted(set(checkpoints) - set(CHECKPOINTS))
        if unknown or not checkpoints:
            raise ConfigError(f'CalibrateThresholdHook: checkpoints must be some of {CHECKPOINTS}, '
                              f'got {checkpoints!r}')
        self.checkpoints = checkpoints

    def before_train(self, runner) -> None:
        cfg = runner.cfg
        if not cfg.get('val_dataloader') or not cfg.get('val_cfg'):
            name = getattr(cfg, 'filename', None) or '<config>'
            raise ConfigError(f'CalibrateThresholdHook: config {name} has no validation split '
                              '(val_dataloader / val_cfg) to calibrate the threshold on; add one '
                              'or remove the hook from custom_hooks')

    def after_train(self, runner) -> None:
        from lszoo.evaluation import calibrate_threshold
        from lszoo.evaluation.calibration import calibration_path

        paths = self.checkpoint_paths(runner)
        if not paths:
            runner.logger.warning('CalibrateThresholdHook: training saved no checkpoint; no '
                                  'threshold calibrated')
            return
        for path in paths:
            try:
                info = calibrate_threshold(runner.cfg, path)
            except DataError as err:  # e.g. a model that ranks background above landslide
                runner.logger.warning(
                    f'CalibrateThresholdHook: no threshold calibrated for {osp.basename(path)} '
                    f"({err}); test, mapping and export use the head's threshold")
                continue
            runner.logger.info(
                f'CalibrateThresholdHook: threshold {info["threshold"]:g} (temperature '
                f'{info["temperature"]:g}; landslide F1 {100 * info["F1"]:.2f} on the validation '
                f'split) calibrated for {osp.basename(path)}, stored in {calibration_path(path)}; '
                'tools/test.py, scene mapping and ONNX export use it')

    def checkpoint_paths(self, runner) -> List[str]:
        """The saved checkpoints to calibrate, each once, those that exist."""
        paths = []
        if 'last' in self.checkpoints:
            paths.append(find_latest_checkpoint(runner.work_dir))
        if 'best' in self.checkpoints:
            info = runner.message_hub.runtime_info
            paths += [info[k] for k in sorted(info) if k.startswith('best_ckpt')]
        seen = []
        for path in paths:
            if path and osp.isfile(path) and path not in seen:
                seen.append(path)
        return seen
