"""CalibrateThresholdHook: the threshold calibrated on the validation split when training ends,
stored beside the last and the best checkpoint, said in the log; no validation split: the run
stops before its first iteration."""
import glob
import os
import os.path as osp
import uuid

import pytest
from helpers import DEMO_CONFIG
from mmengine.runner import find_latest_checkpoint

from lszoo.errors import ConfigError


def _cfg(tmp_path, **options):
    from lszoo.testing import shrink_config
    cfg = shrink_config(DEMO_CONFIG, tmp_path / 'wd', iters=2, batch_size=2, crop=32)
    cfg.custom_hooks = [dict(type='CalibrateThresholdHook')]
    cfg.test_after_train = False
    cfg.log_level = 'INFO'  # the hook reports at INFO, as the configs log
    # a logger of its own: runners started in the same second would share one log file
    cfg.experiment_name = f'calibrate_hook_{uuid.uuid4().hex}'
    cfg.merge_from_dict(options)
    return cfg


def _log_text(work_dir) -> str:
    return ''.join(open(p).read() for p in glob.glob(osp.join(work_dir, '*', '*.log')))


def test_last_and_best_checkpoints_get_a_calibrated_threshold(tmp_path):
    from lszoo.engine import build_runner
    from lszoo.evaluation import resolve_threshold
    from lszoo.evaluation.calibration import calibration_path, load_calibration

    cfg = _cfg(tmp_path, default_hooks=dict(checkpoint=dict(save_best='F1', rule='greater')))
    build_runner(cfg).train()
    last = find_latest_checkpoint(cfg.work_dir)
    best = glob.glob(osp.join(cfg.work_dir, 'best_F1_*.pth'))
    assert last and len(best) == 1
    for ckpt in (last, best[0]):
        info = load_calibration(ckpt)  # None unless the sidecar matches this file's sha256
        assert info is not None and 0 < info['threshold'] < 1 and info['split'] == 'val'
        assert resolve_threshold(None, cfg, ckpt)[0] == info['threshold']
    log = _log_text(cfg.work_dir)
    assert f'calibrated for {osp.basename(last)}, stored in {calibration_path(last)}' in log
    assert f'stored in {calibration_path(best[0])}' in log


def test_only_last_when_asked(tmp_path):
    from lszoo.engine import build_runner
    from lszoo.evaluation.calibration import calibration_path

    cfg = _cfg(tmp_path, default_hooks=dict(checkpoint=dict(save_best='F1', rule='greater')))
    cfg.custom_hooks = [dict(type='CalibrateThresholdHook', checkpoints='last')]
    build_runner(cfg).train()
    assert osp.isfile(calibration_path(find_latest_checkpoint(cfg.work_dir)))
    assert not glob.glob(osp.join(cfg.work_dir, 'best_F1_*.calibration.json'))


def test_no_validation_split_stops_before_training(tmp_path):
    from lszoo.engine import build_runner

    cfg = _cfg(tmp_path)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    with pytest.raises(ConfigError, match='CalibrateThresholdHook: .*no validation split'):
        build_runner(cfg).train()
    assert not glob.glob(osp.join(cfg.work_dir, '*.pth'))  # not one iteration ran


@pytest.mark.parametrize('bad', ['final', [], ['last', 'worst']])
def test_bad_checkpoints_option_is_one_error(bad):
    from lszoo.engine.hooks import CalibrateThresholdHook
    with pytest.raises(ConfigError, match='checkpoints must be some of'):
        CalibrateThresholdHook(checkpoints=bad)


def test_no_checkpoint_saved_is_a_warning_not_a_crash(tmp_path):
    from lszoo.engine import build_runner

    cfg = _cfg(tmp_path, default_hooks=dict(checkpoint=dict(interval=100, save_last=False)))
    build_runner(cfg).train()
    assert not glob.glob(osp.join(cfg.work_dir, '*.calibration.json'))
    assert 'training saved no checkpoint; no threshold calibrated' in _log_text(cfg.work_dir)
    assert os.listdir(cfg.work_dir)


def test_a_calibration_the_data_cannot_support_is_a_warning(tmp_path, monkeypatch):
    import lszoo.evaluation
    from lszoo.engine import build_runner
    from lszoo.errors import DataError

    def cannot(cfg, checkpoint):
        raise DataError('calibration: the split has no landslide pixel, F1 is undefined')

    monkeypatch.setattr(lszoo.evaluation, 'calibrate_threshold', cannot)
    cfg = _cfg(tmp_path)
    build_runner(cfg).train()  # no exception: training's checkpoints stay
    assert find_latest_checkpoint(cfg.work_dir)
    log = _log_text(cfg.work_dir)
    assert ('no threshold calibrated for iter_2.pth (calibration: the split has no landslide '
            "pixel, F1 is undefined); test, mapping and export use the head's threshold") in log
