"""Calibration of the landslide probability: ECE, Brier score, reliability diagram, temperature.

A probability map is only usable as a probability (risk maps, expected areas) if among the
pixels given ``p = 0.8`` about 80 % are landslides. Measured on the **landslide probability**
``p`` of each scored pixel (binary, not the "top-label" confidence of multi-class ECE):

* reliability bins: ``n_bins`` equal-width bins of ``p`` over [0, 1] (``p = 1`` in the last);
  per bin the pixel count, the sum of ``p`` and the number of landslide pixels
  (:func:`reliability_counts`, additive over images);
* **ECE** = sum over bins of ``(n_b / N) * |mean label_b - mean p_b|``;
* **Brier score** = mean of ``(p - y)^2`` over the scored pixels;
* **temperature scaling** (Guo et al. 2017): one scalar ``T > 0`` fitted on validation
  logits by minimising the negative log-likelihood of ``sigmoid(z / T)``; for a two-channel
  softmax model ``z`` is the logit difference ``z1 - z0`` (``softmax(z / T)[1] = sigmoid((z1 -
  z0) / T)``). It leaves the ranking, hence a threshold's pixel set, unchanged up to the
  threshold's own rescaling.
"""
from collections import OrderedDict
from typing import Dict, Optional, Tuple

import numpy as np

from lszoo.errors import DataError


def scored_pairs(probs, labels,
                 ignore_index: Optional[int] = 255) -> Tuple[np.ndarray, np.ndarray]:
    """Flat float64 probabilities and 0/1 labels with ``ignore_index`` left out; a shape
    mismatch, another label or a probability outside [0, 1] is a :class:`DataError`."""
    p = np.asarray(probs, np.float64).ravel()
    y = np.asarray(labels).ravel()
    if p.shape != y.shape:
        raise DataError(f'calibration: {p.size} probabilities for {y.size} labels')
    if ignore_index is not None:
        keep = y != ignore_index
        p, y = p[keep], y[keep]
    bad = np.setdiff1d(np.unique(y), [0, 1])
    if bad.size:
        raise DataError(f'calibration: labels hold {bad[:5].tolist()}; expected 0, 1 or the '
                        f'ignore index {ignore_index}')
    if p.size and (np.nanmin(p) < 0 or np.nanmax(p) > 1 or not np.isfinite(p).all()):
        raise DataError('calibration: probabilities must be finite and in [0, 1]')
    return p, y.astype(np.float64)


def reliability_counts(probs, labels, n_bins: int = 15,
                       ignore_index: Optional[int] = 255) -> np.ndarray:
    """``(3, n_bins)`` additive counts: pixels, sum of ``p`` and landslide pixels per bin."""
    if n_bins < 1:
        raise DataError(f'calibration: n_bins must be >= 1, got {n_bins}')
    p, y = scored_pairs(probs, labels, ignore_index)
    idx = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    return np.stack([np.bincount(idx, minlength=n_bins).astype(np.float64),
                     np.bincount(idx, p, minlength=n_bins),
                     np.bincount(idx, y, minlength=n_bins)])


def ece_from_counts(counts: np.ndarray) -> float:
    """Expected calibration error of :func:`reliability_counts` (summed over images)."""
    n, sp, sy = np.asarray(counts, np.float64)
    if n.sum() == 0:
        return float('nan')
    return float(np.sum(np.abs(sy - sp)) / n.sum())  # = sum n_b/N |sy/n_b - sp/n_b|


def expected_calibration_error(probs, labels, n_bins: int = 15,
                               ignore_index: Optional[int] = 255) -> float:
    """ECE of the landslide probability over ``n_bins`` equal-width bins (``nan`` if no pixel
    is scored)."""
    return ece_from_counts(reliability_counts(probs, labels, n_bins, ignore_index))


def brier_score(probs, labels, ignore_index: Optional[int] = 255) -> float:
    """Mean squared difference between the landslide probability and the 0/1 label."""
    p, y = scored_pairs(probs, labels, ignore_index)
    return float(np.mean((p - y) ** 2)) if p.size else float('nan')


def binary_logits(logits) -> np.ndarray:
    """The landslide logit: ``logits`` as is for ``(H, W)`` / ``(1, ...)`` arrays, ``z1 - z0`` for
    two-channel ``(2, ...)`` softmax logits."""
    z = np.asarray(logits, np.float64)
    if z.ndim >= 3 and z.shape[0] == 2:
        return z[1] - z[0]
    if z.ndim >= 3 and z.shape[0] == 1:
        return z[0]
    return z


def _nll_grad_hess(s: float, z: np.ndarray, y: np.ndarray, w: np.ndarray):
    """Weighted mean NLL of ``sigmoid(s z)`` with its first and second derivative in ``s``."""
    t = s * z
    nll = np.dot(w, np.logaddexp(0.0, t) - y * t)
    p = 0.5 * (1.0 + np.tanh(0.5 * t))  # sigmoid without overflow
    return nll, np.dot(w, (p - y) * z), np.dot(w, p * (1 - p) * z * z)


def fit_temperature(logits, labels, ignore_index: Optional[int] = 255, weights=None,
                    max_iter: int = 100, tol: float = 1e-10) -> Dict[str, float]:
    """``{'temperature', 'nll_before', 'nll_after', 'n'}``: ``T`` minimising the NLL of
    ``sigmoid(z / T)`` on the scored pixels (``z`` from :func:`binary_logits`).

    The NLL is convex in ``s = 1 / T``; Newton steps on ``s`` with step halving find its
    minimum. ``weights`` (one per entry) fit from histograms: logit bin centres with their
    per-class counts, the bounded-memory form for a whole split. Raises :class:`DataError`
    when the labels hold one class only (``T`` is then not identifiable) or the optimum is at
    ``s <= 0`` (the logits rank pixels the wrong way round).
    """
    z = binary_logits(logits).ravel()
    y = np.asarray(labels).ravel()
    if z.shape != y.shape:
        raise DataError(f'temperature: {z.size} logits for {y.size} labels')
    w = np.ones(y.shape) if weights is None else np.asarray(weights, np.float64).ravel()
    if w.shape != y.shape or (w < 0).any():
        raise DataError(f'temperature: weights must be {y.size} non-negative numbers')
    keep = (y != ignore_index if ignore_index is not None else np.ones(y.shape, bool)) & (w > 0)
    z, y, w = z[keep], y[keep].astype(np.float64), w[keep]
    if not np.isfinite(z).all():
        raise DataError('temperature: logits must be finite')
    if y.size == 0 or y.min() == y.max():
        raise DataError('temperature: the labels need both landslide and background pixels')
    w = w / w.sum()
    s = 1.0
    nll0, g, h = _nll_grad_hess(s, z, y, w)
    nll = nll0
    for _ in range(max_iter):
        step = g / max(h, 1e-12)
        while True:
            new = _nll_grad_hess(s - step, z, y, w)
            if new[0] <= nll + 1e-15 or abs(step) < 1e-12:
                break
            step /= 2
        s -= step
        done = abs(nll - new[0]) < tol * max(1.0, abs(nll))
        nll, g, h = new
        if done:
            break
    if s <= 0:
        raise DataError('temperature: the fitted inverse temperature is not positive; the '
                        'logits rank background above landslide')
    return OrderedDict(temperature=float(1.0 / s), nll_before=float(nll0),
                       nll_after=float(nll), n=int(y.size))  # n: scored entries


def apply_temperature(logits, temperature: float) -> np.ndarray:
    """Calibrated landslide probability ``sigmoid(z / T)`` (``z`` from :func:`binary_logits`)."""
    if not temperature > 0:
        raise DataError(f'temperature must be > 0, got {temperature}')
    t = binary_logits(logits) / float(temperature)
    return 0.5 * (1.0 + np.tanh(0.5 * t))


def plot_reliability_diagram(counts: np.ndarray, path: str, title: str = '') -> None:
    """Write a reliability-diagram PNG from :func:`reliability_counts`: landslide frequency
    against mean probability per bin (the diagonal is perfect calibration), pixel share per
    bin below, ECE in the title."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    n, sp, sy = np.asarray(counts, np.float64)
    nb = n.size
    edges = np.linspace(0, 1, nb + 1)
    used = n > 0
    fig, (ax, axh) = plt.subplots(2, 1, figsize=(4.5, 5.5), dpi=120, sharex=True,
                                  gridspec_kw=dict(height_ratios=(3, 1)))
    ax.plot([0, 1], [0, 1], 'k--', lw=1, label='perfect calibration')
    ax.bar(edges[:-1][used], (sy / np.maximum(n, 1))[used], width=1 / nb, align='edge',
           edgecolor='k', alpha=0.7, label='landslide frequency')
    ax.plot((sp / np.maximum(n, 1))[used], (sy / np.maximum(n, 1))[used], 'o-', color='C3',
            ms=3, label='at mean probability of bin')
    ax.set_ylabel('observed landslide frequency')
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, loc='upper left')
    ax.set_title(title or f'Reliability (ECE {ece_from_counts(counts):.4f}, '
                 f'{int(n.sum())} pixels)', fontsize=9)
    axh.bar(edges[:-1], n / max(n.sum(), 1), width=1 / nb, align='edge', color='0.5')
    axh.set_yscale('log')
    axh.set_xlabel('predicted landslide probability')
    axh.set_ylabel('pixel share')
    fig.tight_layout()
    from lszoo.utils.fileio import atomic_savefig
    atomic_savefig(fig, path)
