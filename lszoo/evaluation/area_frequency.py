"""Landslide area-frequency statistics: log-binned density and the power-law tail exponent.

Landslide inventories follow a heavy-tailed area distribution whose medium and large areas are
close to a power law ``p(A) ~ A^-alpha`` (Malamud et al. 2004, alpha about 2.4), with a
rollover at small areas where mapping misses landslides. Whether a model reproduces it is what
hazard models that use its inventory need. Two estimates:

* :func:`log_binned_density`: the probability density ``p(A) = dN / (N dA)`` in logarithmic
  bins (``bins_per_decade``), the usual area-frequency plot;
* :func:`fit_power_law`: the exponent of the continuous power law above a cut-off ``a_min``
  by maximum likelihood, ``alpha = 1 + n / sum(ln(A_i / a_min))`` with standard error
  ``(alpha - 1) / sqrt(n)``; ``a_min`` (unless given) is the candidate area minimising the
  Kolmogorov-Smirnov distance between the tail and the fitted law (Clauset, Shalizi & Newman
  2009). Raster areas are multiples of the pixel area; the continuous law is a fair model only
  well above it, which the chosen ``a_min`` usually is.
"""
from collections import OrderedDict
from typing import Dict, Mapping, Optional

import numpy as np

from lszoo.errors import DataError


def _areas(areas) -> np.ndarray:
    a = np.asarray(areas, np.float64).ravel()
    return a[np.isfinite(a) & (a > 0)]


def log_binned_density(areas, bins_per_decade: int = 5, edges=None) -> Dict[str, np.ndarray]:
    """``{'edges', 'centers', 'counts', 'density'}``: ``density[k] = counts[k] / (N * width_k)``
    over logarithmic bins (geometric centres). ``edges`` fixes the bins (to compare two
    inventories on the same bins); by default whole decades around the data."""
    a = _areas(areas)
    if edges is None:
        if not a.size:
            raise DataError('area-frequency: no positive area')
        lo, hi = np.floor(np.log10(a.min())), np.ceil(np.log10(a.max()))
        hi = max(hi, lo + 1)
        edges = np.logspace(lo, hi, int((hi - lo) * bins_per_decade) + 1)
    edges = np.asarray(edges, np.float64)
    counts = np.histogram(a, edges)[0]
    density = counts / (max(a.size, 1) * np.diff(edges))
    return dict(edges=edges, centers=np.sqrt(edges[:-1] * edges[1:]), counts=counts,
                density=density)


def _alpha(tail: np.ndarray, a_min: float) -> float:
    return 1.0 + tail.size / np.sum(np.log(tail / a_min))


def _ks(tail: np.ndarray, a_min: float, alpha: float) -> float:
    """KS distance between the sorted ``tail`` and the power-law CDF above ``a_min``."""
    n = tail.size
    model = 1.0 - (tail / a_min) ** (1.0 - alpha)
    ecdf_hi = np.arange(1, n + 1) / n
    ecdf_lo = np.arange(n) / n
    return float(max(np.max(np.abs(ecdf_hi - model)), np.max(np.abs(model - ecdf_lo))))


def fit_power_law(areas, a_min: Optional[float] = None, min_tail: int = 10,
                  max_candidates: int = 500) -> Dict[str, float]:
    """``{'alpha', 'sigma', 'a_min', 'n_tail', 'ks', 'n'}``: maximum-likelihood power-law tail.

    Args:
        areas: object areas (non-positive and non-finite ones are ignored).
        a_min: cut-off; ``None`` chooses it by the KS distance among the distinct areas that
            leave at least ``min_tail`` areas in the tail (at most ``max_candidates`` of them,
            evenly spaced in rank).
    Fewer than ``min_tail`` areas above the cut-off give ``nan`` figures (not an error: a
    prediction may hold too few landslides to fit).
    """
    a = np.sort(_areas(areas))
    nan = OrderedDict(alpha=np.nan, sigma=np.nan, a_min=np.nan if a_min is None else a_min,
                      n_tail=0, ks=np.nan, n=int(a.size))
    if a_min is not None:
        tail = a[a >= a_min]
        if tail.size < max(min_tail, 2) or np.all(tail == tail[0]):
            return dict(nan, n_tail=int(tail.size))
        alpha = _alpha(tail, a_min)
        return OrderedDict(alpha=alpha, sigma=(alpha - 1) / np.sqrt(tail.size),
                           a_min=float(a_min), n_tail=int(tail.size),
                           ks=_ks(tail, a_min, alpha), n=int(a.size))
    best = None
    cands = np.unique(a)
    if cands.size > max_candidates:  # bound the O(n * candidates) scan on big inventories
        cands = cands[np.unique(np.linspace(0, cands.size - 1, max_candidates).astype(int))]
    for cand in cands:
        tail = a[a >= cand]
        if tail.size < max(min_tail, 2) or np.all(tail == cand):
            break
        alpha = _alpha(tail, cand)
        d = _ks(tail, cand, alpha)
        if best is None or d < best[0]:
            best = (d, cand, alpha, tail.size)
    if best is None:
        return nan
    d, cand, alpha, n_tail = best
    return OrderedDict(alpha=float(alpha), sigma=float((alpha - 1) / np.sqrt(n_tail)),
                       a_min=float(cand), n_tail=int(n_tail), ks=float(d), n=int(a.size))


def area_statistics(areas) -> Dict[str, float]:
    """Count, total, median, min and max area and the power-law tail fit of one inventory."""
    a = _areas(areas)
    out = OrderedDict(n=int(a.size), total_area=float(a.sum()),
                      median_area=float(np.median(a)) if a.size else np.nan,
                      min_area=float(a.min()) if a.size else np.nan,
                      max_area=float(a.max()) if a.size else np.nan)
    fit = fit_power_law(a)
    for k in ('alpha', 'sigma', 'a_min', 'n_tail', 'ks'):
        out[f'tail_{k}'] = fit[k]
    return out


def plot_area_frequency(inventories: Mapping[str, np.ndarray], path: str, unit: str = 'm²',
                        bins_per_decade: int = 5, title: str = '') -> None:
    """Write a PNG of the log-binned densities of several inventories on common bins, with each
    fitted tail ``p(A) ~ A^-alpha`` drawn from its ``a_min`` (matplotlib, Agg backend)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    allv = np.concatenate([_areas(v) for v in inventories.values()] + [np.zeros(0)])
    if not allv.size:
        raise DataError('area-frequency figure: no positive area in any inventory')
    common = log_binned_density(allv, bins_per_decade)['edges']
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=120)
    for (name, areas), marker in zip(inventories.items(), 'os^dv'):
        a = _areas(areas)
        if not a.size:
            continue
        d = log_binned_density(a, edges=common)
        keep = d['counts'] > 0
        line, = ax.loglog(d['centers'][keep], d['density'][keep], marker, ls='-', ms=5,
                          label=f'{name} (n = {a.size})')
        fit = fit_power_law(a)
        if np.isfinite(fit['alpha']):
            # p(A) = (alpha-1)/a_min (A/a_min)^-alpha, scaled by the tail's share of all areas
            x = np.logspace(np.log10(fit['a_min']), np.log10(a.max()), 20)
            share = fit['n_tail'] / a.size
            y = share * (fit['alpha'] - 1) / fit['a_min'] * (x / fit['a_min']) ** -fit['alpha']
            ax.loglog(x, y, '--', color=line.get_color(),
                      label=f'{name} tail: alpha = {fit["alpha"]:.2f} ± {fit["sigma"]:.2f} '
                      f'(A >= {fit["a_min"]:.3g}, n = {fit["n_tail"]})')
    ax.set_xlabel(f'landslide area A ({unit})')
    ax.set_ylabel(f'probability density p(A) (1/{unit})')
    ax.set_title(title or 'Landslide area-frequency distribution')
    ax.grid(True, which='both', alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    from lszoo.utils.fileio import atomic_savefig
    atomic_savefig(fig, path)
