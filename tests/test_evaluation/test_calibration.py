"""Threshold calibration (lszoo.evaluation.calibration, ThresholdCalibrationMetric, the
``--calibrate`` / ``--threshold`` options of tools/test.py and scene inference's use of a stored
threshold)."""
import os.path as osp

import numpy as np
import pytest
import torch
from helpers import (REPO, assert_mask_is_thresholded, load_script, save_checkpoint,
                     tiny_scene_config, write_scene)
from mmengine.config import Config

from lszoo.errors import DataError
from lszoo.evaluation.calibration import (CalibrationWarning, best_f1_threshold,
                                          best_f1_threshold_from_histograms, calibration_path,
                                          load_calibration, probability_bins, save_calibration)
from lszoo.evaluation.threshold import resolve_threshold
from lszoo.evaluation.metrics import ThresholdCalibrationMetric


# A constructed validation set (probability, label), sorted by probability. The F1 of predicting
# the top k pixels, by hand (n_pos = 4):
#   k=1 TP1 FP0 FN3 -> 2/5 = 0.400     k=5 TP3 FP2 FN1 -> 6/9  = 0.667
#   k=2 TP2 FP0 FN2 -> 4/6 = 0.667     k=6 TP4 FP2 FN0 -> 8/10 = 0.800  <- maximum
#   k=3 TP2 FP1 FN2 -> 4/7 = 0.571     k=7 TP4 FP3 FN0 -> 8/11 = 0.727
#   k=4 TP3 FP1 FN1 -> 6/8 = 0.750     k=8 TP4 FP4 FN0 -> 8/12 = 0.667
# so landslide = prob > t is best for t in [0.265625, 0.328125): the sweep returns the midpoint
# 0.296875. (Dyadic values: exact in float32 and float64, so the metric's float32 path agrees.)
PROBS = np.array([0.9375, 0.8125, 0.71875, 0.640625, 0.453125, 0.328125, 0.265625, 0.125])
LABELS = np.array([1, 1, 0, 1, 0, 1, 0, 0])


def f1_at(probs, labels, t):
    pred, lab = probs > t, labels == 1
    tp = (pred & lab).sum()
    return 2 * tp / (2 * tp + (pred & ~lab).sum() + (~pred & lab).sum())


def test_sorted_sweep_equals_the_hand_computed_maximiser():
    # an ignored pixel with a high probability must not count
    probs, labels = np.r_[PROBS, 0.99], np.r_[LABELS, 255]
    t, f1 = best_f1_threshold(probs.reshape(3, 3), labels.reshape(3, 3))
    assert t == 0.296875 and f1 == pytest.approx(0.8)
    assert f1_at(PROBS, LABELS, t) == pytest.approx(0.8)
    # no threshold on a fine grid does better
    assert max(f1_at(PROBS, LABELS, g) for g in np.linspace(0.001, 0.999, 999)) <= 0.8 + 1e-12


def test_sweep_on_random_data_matches_brute_force():
    rng = np.random.default_rng(0)
    probs = np.round(rng.random(500), 2)  # many ties
    labels = (rng.random(500) < probs * 0.6).astype(int)
    t, f1 = best_f1_threshold(probs, labels)
    brute = max(f1_at(probs, labels, c) for c in np.unique(np.r_[0, probs]))
    assert f1 == pytest.approx(brute) and f1_at(probs, labels, t) == pytest.approx(brute)


def histograms(probs, labels, bins):
    idx = probability_bins(torch.tensor(probs), bins).numpy()
    return (np.bincount(idx[labels == 1], minlength=bins + 1),
            np.bincount(idx[labels == 0], minlength=bins + 1))


def test_histogram_maximiser_on_the_grid():
    t, f1 = best_f1_threshold_from_histograms(*histograms(PROBS, LABELS, 100))
    # every t in {0.27, ..., 0.32} (the grid points in [0.265625, 0.328125)) gives F1 0.8; ties go
    # to the highest threshold
    assert t == pytest.approx(0.32) and f1 == pytest.approx(0.8)
    assert f1_at(PROBS, LABELS, t) == pytest.approx(0.8)


def test_no_landslide_is_a_clear_error():
    with pytest.raises(DataError, match='no landslide'):
        best_f1_threshold([0.2, 0.7], [0, 0])
    with pytest.raises(DataError, match='labels hold'):
        best_f1_threshold([0.2, 0.7], [0, 3])


def sample(prob, label, channels=1):
    prob = torch.tensor(prob, dtype=torch.float32).view(1, 1, -1)
    logits = prob if channels == 1 else torch.cat([torch.zeros_like(prob),
                                                   torch.logit(prob)], 0)
    return dict(seg_logits=dict(data=logits),
                gt_sem_seg=dict(data=torch.tensor(label).view(1, 1, -1)))


@pytest.mark.parametrize('channels', [1, 2])
def test_metric_over_two_images(channels):
    metric = ThresholdCalibrationMetric(bins=100)
    metric.process(None, [sample(PROBS[:3], LABELS[:3], channels),
                          sample(PROBS[3:], LABELS[3:], channels)])
    out = metric.compute_metrics(metric.results)
    assert out['threshold'] == pytest.approx(0.32)
    assert out['F1'] == pytest.approx(80.0) and out['IoU'] == pytest.approx(100 * 4 / 6)


def write_checkpoint(path):
    torch.save({'meta': {'iter': 3}, 'state_dict': {'w': torch.arange(4.0)}}, path)
    return str(path)


def test_saved_beside_the_checkpoint_and_reloaded(tmp_path):
    ckpt = write_checkpoint(tmp_path / 'iter_3.pth')
    before = open(ckpt, 'rb').read()
    assert load_calibration(ckpt) is None
    sidecar = save_calibration(ckpt, dict(threshold=0.3, F1=0.8, split='val'))
    assert sidecar == ckpt + '.calibration.json' == calibration_path(ckpt)
    info = load_calibration(ckpt)
    assert info['threshold'] == pytest.approx(0.3) and info['split'] == 'val'
    assert open(ckpt, 'rb').read() == before  # the checkpoint is byte-identical
    assert sorted(p.name for p in tmp_path.iterdir()) == ['iter_3.pth',
                                                          'iter_3.pth.calibration.json']
    # explicit threshold > stored one > the model's own; the paper flag turns the stored one off
    assert resolve_threshold(None, None, ckpt, 0.4) == (0.4, 'given explicitly')
    assert resolve_threshold(None, None, ckpt)[0] == pytest.approx(0.3)
    paper = Config(dict(use_calibrated_threshold=False))
    assert resolve_threshold(None, paper, ckpt)[0] is None
    # the tools print the source in parentheses: it holds none itself (issue 24)
    for thr_cfg in (None, paper):
        assert '(' not in resolve_threshold(None, thr_cfg, ckpt)[1]
    assert resolve_threshold(None, None, None)[0] is None


def test_stale_sidecar_is_ignored_with_a_warning(tmp_path):
    ckpt = write_checkpoint(tmp_path / 'iter_3.pth')
    save_calibration(ckpt, dict(threshold=0.3))
    torch.save({'meta': {'iter': 4}, 'state_dict': {'w': torch.ones(4)}}, ckpt)  # retrained
    with pytest.warns(CalibrationWarning, match='calibrated for another version of'):
        assert load_calibration(ckpt) is None
    with pytest.warns(CalibrationWarning):
        assert resolve_threshold(None, None, ckpt) == (
            None, "the model's own, no calibration beside the checkpoint")


def test_failed_save_leaves_the_checkpoint_whole(tmp_path, monkeypatch):
    ckpt = write_checkpoint(tmp_path / 'iter_3.pth')
    before = open(ckpt, 'rb').read()

    def broken(*args, **kwargs):
        raise OSError('disk full')

    monkeypatch.setattr('lszoo.engine.checkpoint.os.fsync', broken)
    with pytest.raises(OSError):
        save_calibration(ckpt, dict(threshold=0.3))
    assert open(ckpt, 'rb').read() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ['iter_3.pth']  # no sidecar, no temp
    with pytest.raises(DataError, match='threshold'):
        save_calibration(ckpt, dict(threshold=1.5))


# --- tools/test.py ------------------------------------------------------------------------

def _load_test_tool():
    module = load_script('tools/test.py')
    return module


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
    """A shrunk demo config and a random-weight checkpoint of its model."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    from lszoo.testing import shrink_config
    d = tmp_path_factory.mktemp('cal')
    cfg = shrink_config(osp.join(REPO, 'configs', 'demo', 'unet_synthetic.py'), d / 'wd',
                        iters=1, batch_size=2, crop=32)
    cfg.custom_hooks = []
    path = str(d / 'tiny.py')
    cfg.dump(path)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    ckpt = str(d / 'iter_1.pth')
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, ckpt)
    return path, ckpt, d


def test_test_tool_calibrates_stores_and_reuses(tiny_run, capsys):
    config, ckpt, d = tiny_run
    tool = _load_test_tool()
    assert tool.main([config, ckpt, '--work-dir', str(d / 't1'), '--calibrate']) == 0
    out = capsys.readouterr().out
    stored = load_calibration(ckpt)
    assert stored is not None and 0 < stored['threshold'] < 1
    assert f'prob > {stored["threshold"]:g}' in out
    # a later run picks the stored threshold up, the metric names it; --threshold overrides
    assert tool.main([config, ckpt, '--work-dir', str(d / 't2')]) == 0
    out = capsys.readouterr().out
    assert f'test threshold: prob > {stored["threshold"]:g} (calibrated on val' in out
    assert tool.main([config, ckpt, '--work-dir', str(d / 't3'), '--threshold', '0.45']) == 0
    assert 'test threshold: prob > 0.45 (given explicitly)' in capsys.readouterr().out
    code = tool.main([config, ckpt, '--calibrate', '--threshold', '0.4'])
    assert code == 2 and 'use one' in capsys.readouterr().err


# --- scene inference ------------------------------------------------------------------------

def test_map_scene_uses_the_stored_threshold(tmp_path):
    import rasterio

    from lszoo.apis.scene import map_scene
    cfg = tiny_scene_config()
    ckpt = save_checkpoint(cfg, tmp_path / 'tiny.pth')
    scene, _ = write_scene(tmp_path / 'scene.tif', 96, 96)
    save_calibration(ckpt, dict(threshold=0.37))

    def run(name, config, **kw):
        res = map_scene(config, scene, str(tmp_path / f'{name}.tif'), ckpt,
                        prob=str(tmp_path / f'{name}_p.tif'), tile=64, overlap=16, window=256,
                        progress=False, **kw)
        with rasterio.open(res.output) as m, rasterio.open(res.prob) as p:
            return res, m.read(1), p.read(1)

    res, mask, prob = run('cal', cfg)
    assert res.threshold == pytest.approx(0.37) and 'calibrated' in res.threshold_source
    assert_mask_is_thresholded(mask, prob, 0.37)
    res, mask, prob = run('given', cfg, threshold=0.6)
    assert res.threshold == 0.6
    assert_mask_is_thresholded(mask, prob, 0.6)
    res, mask, prob = run('paper', dict(cfg, use_calibrated_threshold=False))
    assert res.threshold == 0.5  # the head's
    assert_mask_is_thresholded(mask, prob, 0.5)
