"""Area-frequency statistics: log-binned density and the maximum-likelihood tail exponent."""
import numpy as np
import pytest

from lszoo.errors import DataError
from lszoo.evaluation.area_frequency import (area_statistics, fit_power_law,
                                             log_binned_density, plot_area_frequency)


def _power_law(n, alpha, a_min, seed):
    """Exact draws of a continuous power law (inverse CDF)."""
    u = np.random.default_rng(seed).random(n)
    return a_min * (1 - u) ** (-1 / (alpha - 1))


def test_ml_exponent_with_known_cutoff():
    a = _power_law(4000, 2.4, 100.0, 0)
    fit = fit_power_law(a, a_min=100.0)
    assert fit['alpha'] == pytest.approx(1 + a.size / np.log(a / 100).sum())
    assert abs(fit['alpha'] - 2.4) < 3 * fit['sigma']
    assert fit['sigma'] == pytest.approx((fit['alpha'] - 1) / np.sqrt(4000))


def test_cutoff_chosen_above_a_rollover():
    """Uniform small areas below 100 and a power law above: the KS cut-off lands near 100
    and the exponent stays right."""
    rng = np.random.default_rng(1)
    a = np.concatenate([rng.uniform(5, 100, 600), _power_law(1500, 2.2, 100.0, 2)])
    fit = fit_power_law(a)
    assert 80 <= fit['a_min'] <= 200
    assert abs(fit['alpha'] - 2.2) < 0.15
    assert fit['n'] == 2100 and fit['n_tail'] < 1600


def test_density_integrates_to_one_and_degenerate_cases(tmp_path):
    a = _power_law(500, 2.0, 10.0, 3)
    d = log_binned_density(a, bins_per_decade=4)
    assert d['counts'].sum() == 500
    assert np.sum(d['density'] * np.diff(d['edges'])) == pytest.approx(1.0)
    assert np.allclose(np.log10(d['edges'][1:] / d['edges'][:-1]), 0.25)
    few = fit_power_law([10, 20, 30])
    assert np.isnan(few['alpha']) and few['n'] == 3
    st = area_statistics(a)
    assert st['n'] == 500 and st['total_area'] == pytest.approx(a.sum())
    with pytest.raises(DataError):
        log_binned_density([])
    plot_area_frequency({'reference': a, 'predicted': a[:300], 'empty': []},
                        str(tmp_path / 'af.png'))
    assert (tmp_path / 'af.png').stat().st_size > 1000
