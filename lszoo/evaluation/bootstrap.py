"""Uncertainty of evaluation numbers: bootstrap confidence intervals and mean ± sd over seeds.

A score on one test split is one draw; the landslides of a split are few and clustered, so the
same model can score several points apart on another split. Percentile bootstrap intervals
answer "how much would this number move on a similar split": the evaluation units (images, or
spatial blocks of a scene, :func:`group_ids`) are resampled with replacement ``n_boot`` times
(seeded), the score is recomputed from the resampled units' additive records, and the
``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the replicates are the interval.

Scores are computed from weights: replicate ``b`` weights unit ``i`` by how often it was
drawn, so a statistic is a function ``f(w)`` of a ``(B, N)`` weight matrix returning
``{name: (B,) array}`` (:func:`pixel_statistic`, :func:`object_statistic`); ``w = 1``
everywhere gives the point estimate.
"""
from collections import OrderedDict
from typing import Callable, Dict, Iterable, List, Mapping, Sequence, Tuple

import numpy as np

from lszoo.errors import ConfigError, DataError

from .objects import flat_scores, summarize_sums

Statistic = Callable[[np.ndarray], Mapping[str, np.ndarray]]


def bootstrap_ci(n_units: int, statistic: Statistic, n_boot: int = 1000, level: float = 0.95,
                 seed: int = 0, chunk: int = 250) -> Dict[str, Tuple[float, float, float]]:
    """``{name: (estimate, low, high)}``: percentile bootstrap intervals of ``statistic``.

    Args:
        n_units: number of resampled units (images or blocks).
        statistic: ``f(w)`` for a ``(B, n_units)`` weight matrix (see the module docstring).
        n_boot: number of replicates. level: coverage of the interval. seed: of the resampling.
    Replicates whose value is undefined (``nan``: e.g. no reference object drawn) are left out of
    the quantiles; an interval with no defined replicate is ``(nan, nan)``.
    """
    if n_boot < 1:
        raise ConfigError(f'bootstrap: n_boot must be >= 1, got {n_boot}')
    if not 0 < level < 1:
        raise ConfigError(f'bootstrap: level must be in (0, 1), got {level}')
    if n_units < 1:
        raise DataError('bootstrap: no evaluation unit to resample')
    point = statistic(np.ones((1, n_units)))
    rng = np.random.default_rng(seed)
    reps = {k: [] for k in point}
    p = np.full(n_units, 1.0 / n_units)
    for start in range(0, n_boot, chunk):
        w = rng.multinomial(n_units, p, size=min(chunk, n_boot - start)).astype(np.float64)
        for k, v in statistic(w).items():
            reps[k].append(np.asarray(v, np.float64))
    q = ((1 - level) / 2 * 100, (1 + level) / 2 * 100)
    out = OrderedDict()
    for k, v in reps.items():
        v = np.concatenate(v)
        v = v[np.isfinite(v)]
        low, high = np.percentile(v, q) if v.size else (np.nan, np.nan)
        out[k] = (float(np.asarray(point[k]).ravel()[0]), float(low), float(high))
    return out


def group_ids(x, y, block_size: float) -> np.ndarray:
    """Spatial block of each point (``x``, ``y`` in map units) on a ``block_size`` grid, as
    consecutive ids ``0..G-1`` of the occupied blocks."""
    if not block_size > 0:
        raise ConfigError(f'bootstrap: block size must be > 0, got {block_size}')
    bx = np.floor(np.asarray(x, np.float64) / block_size).astype(np.int64)
    by = np.floor(np.asarray(y, np.float64) / block_size).astype(np.int64)
    _, ids = np.unique(np.stack([bx, by], 1), axis=0, return_inverse=True)
    return ids.ravel()


def object_statistic(records: np.ndarray, edges: Sequence[float],
                     keys: Iterable[str] = None, unit: str = '') -> Statistic:
    """Statistic of per-unit object records (:func:`~lszoo.evaluation.objects.object_counts`):
    the flat object scores (``object_recall``, ``object_f1@<class>``, ...), or only ``keys``."""
    rec = np.asarray(records, np.float64)
    keys = None if keys is None else list(keys)

    def f(w):
        flat = flat_scores(summarize_sums(w @ rec, edges, unit))
        return flat if keys is None else OrderedDict((k, flat[k]) for k in keys)
    return f


def _pct(a, b):
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(b > 0, 100.0 * a / np.where(b > 0, b, 1), np.nan)


def pixel_statistic(records: np.ndarray) -> Statistic:
    """Statistic of per-image pixel counts ``[TP, FP, FN, TN]``: the eight keys of
    :meth:`~lszoo.evaluation.metrics.LandslideMetric.summarize` (percentages), vectorised."""
    rec = np.asarray(records, np.float64).reshape(-1, 4)
    tp_i, fp_i, fn_i, tn_i = rec.T
    used = (rec.sum(1) > 0).astype(np.float64)  # images with no scored pixel are skipped
    empty = (tp_i + fp_i + fn_i) == 0
    img_iou = np.where(empty, 1.0, tp_i / np.maximum(tp_i + fp_i + fn_i, 1))
    img_f1 = np.where(empty, 1.0, 2 * tp_i / np.maximum(2 * tp_i + fp_i + fn_i, 1))

    def f(w):
        tp, fp, fn, tn = (w @ rec).T
        iou, back_iou = _pct(tp, tp + fp + fn), _pct(tn, tn + fp + fn)
        f1, back_f1 = _pct(2 * tp, 2 * tp + fp + fn), _pct(2 * tn, 2 * tn + fp + fn)
        with np.errstate(invalid='ignore'):
            miou = np.nanmean(np.stack([back_iou, iou]), 0) if iou.size else iou
            mf1 = np.nanmean(np.stack([back_f1, f1]), 0) if f1.size else f1
        n = w @ used
        return OrderedDict(
            IoU=iou, F1=f1, Precision=_pct(tp, tp + fp), Recall=_pct(tp, tp + fn),
            mIoU=miou, mF1=mf1, imgIoU=_pct(w @ (img_iou * used), n),
            imgF1=_pct(w @ (img_f1 * used), n))
    return f


def mean_sd(runs: Sequence[Mapping[str, float]]) -> Dict[str, Tuple[float, float, int]]:
    """``{key: (mean, sd, n)}`` over several runs of one config (e.g. seeds); ``sd`` is the
    sample standard deviation (``ddof=1``, ``nan`` for one run). Keys missing or ``nan`` in a
    run are left out of that key's figures."""
    if not runs:
        raise DataError('mean_sd: no run given')
    keys = list(OrderedDict.fromkeys(k for r in runs for k in r))
    out = OrderedDict()
    for k in keys:
        v = np.array([float(r[k]) for r in runs if k in r], np.float64)
        v = v[np.isfinite(v)]
        sd = float(v.std(ddof=1)) if v.size > 1 else float('nan')
        out[k] = (float(v.mean()) if v.size else float('nan'), sd, int(v.size))
    return out


def summarize_runs(rows: Sequence[Mapping], keys: Sequence[str], group: str = 'name',
                   order: str = 'seed') -> List[dict]:
    """Rows of several runs -> one row per ``group`` value (first-seen order) with ``runs``
    (the ``order`` values, sorted), ``n``, and per key ``<key>_mean``, ``<key>_sd`` (sample sd,
    :func:`mean_sd`) and ``<key>_values`` (per run, in ``order``)."""
    groups: Dict[object, List[Mapping]] = OrderedDict()
    for r in rows:
        groups.setdefault(r[group], []).append(r)
    out = []
    for name, runs in groups.items():
        runs = sorted(runs, key=lambda r: r[order])
        stats = mean_sd([{k: r[k] for k in keys if k in r} for r in runs])
        row = {group: name, 'runs': [r[order] for r in runs], 'n': len(runs)}
        for k in keys:
            row[f'{k}_mean'], row[f'{k}_sd'], _ = stats.get(k, (np.nan, np.nan, 0))
            row[f'{k}_values'] = [r.get(k, np.nan) for r in runs]
        out.append(row)
    return out


def format_mean_sd(mean: float, sd: float, digits: int = 2) -> str:
    """``'72.00 ± 2.00'``; one run (``sd`` nan) gives the value alone."""
    if not np.isfinite(mean):
        return 'nan'
    return f'{mean:.{digits}f}' + (f' ± {sd:.{digits}f}' if np.isfinite(sd) else '')


def format_ci(estimate: float, low: float, high: float, digits: int = 2) -> str:
    """``'75.00 [72.10, 77.90]'`` (``nan`` parts as ``nan``)."""
    def f(v):
        return f'{v:.{digits}f}' if np.isfinite(v) else 'nan'
    return f'{f(estimate)} [{f(low)}, {f(high)}]'
