"""Bootstrap intervals: coverage on a simulated case, agreement with the metric's summary."""
import numpy as np
import pytest

from lszoo.errors import ConfigError, DataError
from lszoo.evaluation.bootstrap import (bootstrap_ci, format_ci, group_ids, mean_sd,
                                        object_statistic, pixel_statistic)
from lszoo.evaluation.metrics import LandslideMetric
from lszoo.evaluation.objects import SIZE_EDGES_PX, match_masks, object_counts


def test_intervals_cover_the_true_value_at_about_the_nominal_rate():
    """Images with Poisson(4) landslides, each found with probability 0.7: the object recall
    (a ratio of sums over images) has true value 0.7; 95 % intervals over 300 simulated test
    sets of 60 images should cover it about 95 % of the time."""
    rng = np.random.default_rng(0)
    edges, truth, covered, n_sets = (), 0.7, 0, 300
    for s in range(n_sets):
        n_ref = rng.poisson(4, 60).astype(float)
        hit = rng.binomial(n_ref.astype(int), truth).astype(float)
        rec = np.zeros((60, 10))                  # one size class: 8 fields + splits, merges
        rec[:, 0], rec[:, 1], rec[:, 2] = n_ref, hit, hit
        rec[:, 3], rec[:, 4], rec[:, 5] = n_ref, hit, hit
        ci = bootstrap_ci(60, object_statistic(rec, edges, ['object_recall']), n_boot=400,
                          seed=s)
        _, low, high = ci['object_recall']
        covered += low <= truth <= high
    rate = covered / n_sets
    assert 0.90 <= rate <= 0.99, rate


def test_seeded_and_configurable():
    rec = np.random.default_rng(1).integers(0, 50, (30, 4))
    a = bootstrap_ci(30, pixel_statistic(rec), n_boot=200, seed=3)
    b = bootstrap_ci(30, pixel_statistic(rec), n_boot=200, seed=3)
    c = bootstrap_ci(30, pixel_statistic(rec), n_boot=200, seed=4)
    assert a == b and a != c
    wide = bootstrap_ci(30, pixel_statistic(rec), n_boot=200, seed=3, level=0.99)
    assert wide['IoU'][1] <= a['IoU'][1] and wide['IoU'][2] >= a['IoU'][2]
    with pytest.raises(ConfigError):
        bootstrap_ci(30, pixel_statistic(rec), n_boot=0)
    with pytest.raises(DataError):
        bootstrap_ci(0, pixel_statistic(rec))


def test_pixel_statistic_equals_metric_summary():
    rec = np.random.default_rng(2).integers(0, 40, (25, 4))
    rec[3] = 0                                    # a fully ignored image
    rec[4, :3] = 0                                # an image with no landslide anywhere
    ref = LandslideMetric.summarize(rec)
    point = {k: v[0] for k, v in pixel_statistic(rec)(np.ones((1, 25))).items()}
    for key, value in ref.items():
        assert point[key] == pytest.approx(value), key


def test_object_statistic_point_estimate_and_blocks():
    ref = np.zeros((40, 40), np.uint8)
    ref[2:8, 2:8] = ref[20:30, 20:30] = ref[33:36, 5:8] = 1
    pred = ref.copy()
    pred[33:36, 5:8] = 0
    m, _, _ = match_masks(pred, ref)
    rec = object_counts(m, SIZE_EDGES_PX)[None]
    est = bootstrap_ci(1, object_statistic(rec, SIZE_EDGES_PX), n_boot=10)
    assert est['object_recall'][0] == pytest.approx(2 / 3)
    assert est['object_recall@<10'][0] == 0 and est['n_ref'][0] == 3
    ids = group_ids([5, 15, 105, 6], [5, 5, 5, 195], 100.0)
    assert ids.tolist() == [0, 0, 2, 1] and len(set(ids.tolist())) == 3


def test_mean_sd_over_seeds_and_format():
    runs = [dict(IoU=70.0, F1=80.0), dict(IoU=72.0, F1=82.0), dict(IoU=74.0, F1=float('nan'))]
    out = mean_sd(runs)
    assert out['IoU'] == pytest.approx((72.0, 2.0, 3))
    assert out['F1'][2] == 2 and out['F1'][0] == pytest.approx(81.0)
    assert format_ci(75.0, 72.1, 77.9) == '75.00 [72.10, 77.90]'
