"""Decision-threshold calibration: the probability cut-off that maximises landslide F1.

A model trained on a rare class often ranks pixels well while its probabilities stay below 0.5;
the threshold that maximises F1 on the validation split recovers that (docs/metrics.md). Two
exact maximisers, both for the rule ``landslide = prob > t`` (strict, as mmseg's):

* :func:`best_f1_threshold`: a sorted sweep over every distinct probability (exact over all
  thresholds; the returned ``t`` is the midpoint between the two probabilities that bound the
  best set of predicted pixels);
* :func:`best_f1_threshold_from_histograms`: the same from per-class histograms of the
  probability in ``bins`` bins (exact over the thresholds ``j / bins``), which is what
  :class:`~lszoo.evaluation.metrics.ThresholdCalibrationMetric` accumulates over a split.

The chosen threshold is stored in a checkpoint's ``meta['lszoo_calibration']``
(:func:`save_calibration`, an atomic rewrite) and read back by ``tools/test.py`` and scene
inference (:func:`resolve_threshold`) unless the config sets ``use_calibrated_threshold = False``
(the paper configs, which keep their papers' thresholds) or a threshold is given explicitly.
"""
import io
from typing import Optional, Tuple

import numpy as np

from lszoo.errors import CheckpointError, DataError

META_KEY = 'lszoo_calibration'


def _f1(tp, fp, fn):
    den = 2 * tp + fp + fn
    return np.where(den > 0, 2 * tp / np.maximum(den, 1), np.nan)


def best_f1_threshold(probs, labels, ignore_index: int = 255) -> Tuple[float, float]:
    """``(t, F1)``: the threshold ``t`` for which ``probs > t`` has the highest landslide F1.

    Args:
        probs: landslide probabilities in [0, 1], any shape.
        labels: 0 background, 1 landslide, ``ignore_index`` left out; same shape.

    Every set ``{p >= v}`` for a distinct probability ``v`` is tried; the best one is returned as
    ``t`` = midpoint between ``v`` and the next lower distinct probability (0 below the lowest),
    so ``probs > t`` selects exactly that set. Ties go to the highest threshold (fewest
    predicted pixels). Raises :class:`DataError` when there is no landslide pixel (F1 undefined
    for every threshold).
    """
    probs = np.asarray(probs, dtype=np.float64).ravel()
    labels = np.asarray(labels).ravel()
    if probs.shape != labels.shape:
        raise DataError(f'calibration: {probs.size} probabilities for {labels.size} labels')
    keep = labels != ignore_index
    probs, labels = probs[keep], labels[keep]
    bad = np.setdiff1d(np.unique(labels), [0, 1])
    if bad.size:
        raise DataError(f'calibration: labels hold {bad[:5].tolist()}; expected 0, 1 or '
                        f'{ignore_index}')
    if probs.size and (probs.min() < 0 or probs.max() > 1):
        raise DataError('calibration: probabilities outside [0, 1]')
    n_pos = int(labels.sum())
    if n_pos == 0:
        raise DataError('calibration: the split has no landslide pixel, F1 is undefined')
    order = np.argsort(-probs, kind='stable')
    p, t = probs[order], labels[order]
    # last index of each run of equal probabilities: the candidate sets {p >= v}
    ends = np.flatnonzero(np.r_[p[1:] != p[:-1], True])
    tp = np.cumsum(t)[ends]
    fp = ends + 1 - tp
    f1 = _f1(tp, fp, n_pos - tp)
    best = int(np.nanargmax(f1))
    lower = p[ends[best] + 1] if ends[best] + 1 < p.size else 0.0
    return float((p[ends[best]] + lower) / 2), float(f1[best])


def probability_bins(prob, bins: int):
    """Bin index of each probability for :func:`best_f1_threshold_from_histograms`: ``j`` for
    ``prob`` in ``((j - 1) / bins, j / bins]``, 0 for ``prob == 0`` (so ``prob > j / bins`` is
    ``index > j``)."""
    import torch
    return torch.ceil(prob.double() * bins).clamp_(0, bins).long()


def best_f1_threshold_from_histograms(pos_hist, neg_hist) -> Tuple[float, float]:
    """``(t, F1)`` from histograms (``bins + 1`` counts, see :func:`probability_bins`) of the
    landslide and background pixels' probabilities; ``t`` is one of ``j / bins``, ``0 < j <
    bins``. Ties go to the highest threshold."""
    pos = np.asarray(pos_hist, dtype=np.int64)
    neg = np.asarray(neg_hist, dtype=np.int64)
    bins = pos.size - 1
    if bins < 2 or neg.size != pos.size:
        raise DataError(f'calibration: histograms of {pos.size} and {neg.size} bins')
    if pos.sum() == 0:
        raise DataError('calibration: the split has no landslide pixel, F1 is undefined')
    # predicted positive at threshold j / bins: bins j + 1 ... bins
    tp = np.cumsum(pos[::-1])[::-1][1:]
    fp = np.cumsum(neg[::-1])[::-1][1:]
    j = np.arange(bins)
    f1 = _f1(tp, fp, pos.sum() - tp)[1:]  # j >= 1: t = 0 is not a usable threshold
    best = len(f1) - 1 - int(np.nanargmax(f1[::-1]))
    return float(j[1:][best] / bins), float(f1[best])


def save_calibration(checkpoint: str, info: dict) -> None:
    """Store ``info`` (with its ``'threshold'``) in ``meta['lszoo_calibration']`` of the
    checkpoint file, rewriting the file atomically (the old file stays whole on any failure)."""
    import torch

    from lszoo.engine.checkpoint import atomic_write_bytes, load_checkpoint_file
    if not 0 < float(info.get('threshold', -1)) < 1:
        raise DataError(f'calibration: threshold must be in (0, 1), got {info.get("threshold")}')
    ckpt = dict(load_checkpoint_file(checkpoint))
    if 'state_dict' not in ckpt:
        raise CheckpointError(f'{checkpoint}: not an mmengine checkpoint (no "state_dict"); '
                              'cannot store a calibrated threshold in it')
    meta = dict(ckpt.get('meta') or {})
    meta[META_KEY] = {k: (float(v) if isinstance(v, (float, np.floating)) else v)
                      for k, v in info.items()}
    ckpt['meta'] = meta
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    atomic_write_bytes(checkpoint, buf.getvalue())


def load_calibration(checkpoint: str) -> Optional[dict]:
    """The ``meta['lszoo_calibration']`` dict of a checkpoint file, ``None`` if it has none."""
    from lszoo.engine.checkpoint import load_checkpoint_file
    meta = load_checkpoint_file(checkpoint).get('meta') or {}
    info = meta.get(META_KEY) if isinstance(meta, dict) else None
    return dict(info) if info else None


def resolve_threshold(override: Optional[float], checkpoint: Optional[str],
                      cfg=None) -> Tuple[Optional[float], str]:
    """``(threshold, source)`` for testing or inference: ``override`` if given, else the
    checkpoint's calibrated threshold unless ``cfg`` says ``use_calibrated_threshold = False``,
    else ``(None, ...)`` (use the model's own threshold)."""
    if override is not None:
        return float(override), 'given explicitly'
    if cfg is not None and not cfg.get('use_calibrated_threshold', True):
        return None, "the config's own (use_calibrated_threshold = False)"
    if checkpoint:
        info = load_calibration(checkpoint)
        if info is not None:
            f1 = 100 * info.get('F1', float('nan'))
            return float(info['threshold']), (
                f'calibrated on {info.get("split", "val")} (F1 {f1:.2f}), stored in {checkpoint}')
    if checkpoint:
        return None, "the model's own (no calibrated threshold in the checkpoint)"
    return None, "the model's own"
