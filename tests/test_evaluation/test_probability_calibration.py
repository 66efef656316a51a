"""ECE, Brier score, reliability diagram and temperature scaling against direct computations."""
import numpy as np
import pytest

from lszoo.errors import DataError
from lszoo.evaluation.probability_calibration import (
    apply_temperature, binary_logits, brier_score, ece_from_counts, expected_calibration_error,
    fit_temperature, plot_reliability_diagram, reliability_counts)


def _direct_ece(p, y, n_bins):
    """ECE written out bin by bin with a loop (the textbook definition)."""
    total, n = 0.0, len(p)
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        sel = (p >= lo) & ((p < hi) if b < n_bins - 1 else (p <= hi))
        if sel.any():
            total += sel.sum() / n * abs(y[sel].mean() - p[sel].mean())
    return total


@pytest.mark.parametrize('n_bins', [1, 10, 15])
def test_ece_and_brier_equal_direct_numpy(n_bins):
    rng = np.random.default_rng(n_bins)
    p = rng.random(5000) ** 2
    p[:5] = [0.0, 1.0, 0.5, 0.1, 0.9]             # bin edges included
    y = (rng.random(5000) < np.sqrt(p)).astype(np.uint8)
    labels = y.copy()
    labels[::7] = 255                              # ignored pixels are left out
    keep = labels != 255
    assert expected_calibration_error(p, labels, n_bins) == pytest.approx(
        _direct_ece(p[keep], y[keep].astype(float), n_bins), abs=1e-12)
    assert brier_score(p, labels) == pytest.approx(np.mean((p[keep] - y[keep]) ** 2))
    # additive over images
    halves = reliability_counts(p[:2500], labels[:2500], n_bins) + \
        reliability_counts(p[2500:], labels[2500:], n_bins)
    assert ece_from_counts(halves) == pytest.approx(
        expected_calibration_error(p, labels, n_bins))


def test_perfectly_calibrated_and_bad_inputs():
    p = np.repeat([0.25, 0.75], 400)
    y = np.concatenate([np.r_[np.ones(100), np.zeros(300)], np.r_[np.ones(300), np.zeros(100)]])
    assert expected_calibration_error(p, y, 10) == pytest.approx(0)
    assert np.isnan(expected_calibration_error(p, np.full(800, 255)))
    with pytest.raises(DataError, match='labels hold'):
        brier_score([0.5], [2])
    with pytest.raises(DataError, match='in \\[0, 1\\]'):
        brier_score([1.5], [1])


def test_temperature_recovers_a_known_scale_and_lowers_nll():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, 40000)
    y = (rng.random(z.size) < 1 / (1 + np.exp(-z))).astype(np.uint8)
    fit = fit_temperature(3.0 * z, y)               # over-confident logits: T close to 3
    assert fit['temperature'] == pytest.approx(3.0, rel=0.05)
    assert fit['nll_after'] < fit['nll_before']
    # the optimum: NLL is larger a little on each side
    def nll(t):
        q = np.clip(apply_temperature(3.0 * z, t), 1e-12, 1 - 1e-12)
        return -np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))
    t = fit['temperature']
    assert nll(t) == pytest.approx(fit['nll_after'], rel=1e-6)
    assert nll(t) < nll(t * 1.05) and nll(t) < nll(t / 1.05)
    ece_before = expected_calibration_error(apply_temperature(3.0 * z, 1.0), y)
    assert expected_calibration_error(apply_temperature(3.0 * z, t), y) < ece_before / 3


def test_two_channel_logits_and_errors(tmp_path):
    two = np.stack([np.zeros((4, 4)), np.arange(16.0).reshape(4, 4) - 8])
    assert np.array_equal(binary_logits(two), two[1])
    prob = apply_temperature(two, 2.0)
    soft = np.exp(two / 2.0)
    assert np.allclose(prob, soft[1] / soft.sum(0))
    with pytest.raises(DataError, match='both'):
        fit_temperature(np.ones(10), np.ones(10))
    with pytest.raises(DataError):
        apply_temperature(two, 0.0)
    counts = reliability_counts(np.linspace(0, 1, 101), np.r_[np.zeros(50), np.ones(51)])
    plot_reliability_diagram(counts, str(tmp_path / 'rel.png'))
    assert (tmp_path / 'rel.png').stat().st_size > 1000


def test_weighted_fit_equals_the_fit_on_repeated_pixels():
    """Histogram form: distinct logits with per-class counts give the T of the full sample."""
    rng = np.random.default_rng(5)
    z = np.round(rng.normal(0, 3, 20000), 1)       # logits on a 0.1 grid
    y = (rng.random(z.size) < 1 / (1 + np.exp(-z / 2))).astype(np.uint8)
    full = fit_temperature(z, y)
    keys, counts = np.unique(np.stack([z, y]), axis=1, return_counts=True)
    hist = fit_temperature(keys[0], keys[1].astype(np.uint8), weights=counts)
    assert hist['temperature'] == pytest.approx(full['temperature'], rel=1e-9)
    assert full['temperature'] == pytest.approx(2.0, rel=0.1)
    with pytest.raises(DataError, match='weights'):
        fit_temperature(z, y, weights=-np.ones(z.size))
