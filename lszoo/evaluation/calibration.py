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

:func:`calibrate_threshold` runs a config's validation split, fits the temperature of the
landslide logits there (:func:`~lszoo.evaluation.probability_calibration.fit_temperature`) and
stores it with the chosen threshold in a sidecar file beside the checkpoint,
``<checkpoint>.calibration.json`` (:func:`save_calibration`,
written atomically; the checkpoint itself is not touched), with the checkpoint's SHA-256 so that a
sidecar left beside another version of the file is ignored with a warning. The one threshold
resolver, :func:`lszoo.evaluation.threshold.resolve_threshold`, and its temperature twin
:func:`~lszoo.evaluation.threshold.resolve_temperature` read it back for ``tools/test.py``,
scene inference and the ONNX export. With a temperature ``T`` in the sidecar, its threshold is
on the calibrated probability ``sigmoid(z / T)`` (the F1-best threshold ``t`` found on the
model's own probability, mapped as ``sigmoid(logit(t) / T)``: the same pixels), and
``threshold_uncalibrated`` keeps ``t``.
"""
import json
import os
import os.path as osp
import warnings
from typing import Optional, Tuple

import numpy as np

from lszoo.errors import CheckpointError, ConfigError, DataError
from lszoo.utils.fileio import atomic_write_json, sha256_file

#: The temperature the model runs with during calibration (undone by the metric): keeps a
#: one-channel model's float32 sigmoid from saturating, so its logits can be recovered.
PROBE_TEMPERATURE = 8.0

#: The sidecar of checkpoint ``X`` is ``X`` + this suffix.
SIDECAR_SUFFIX = '.calibration.json'


class CalibrationWarning(UserWarning):
    """A calibration sidecar was ignored (made for another checkpoint file, or unreadable)."""


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
    from .probability_calibration import scored_pairs
    probs, labels = scored_pairs(probs, labels, ignore_index)
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


def calibrated_threshold(threshold: float, temperature: float) -> float:
    """The threshold on ``sigmoid(z / T)`` that selects the pixels ``sigmoid(z) > threshold``
    does: ``sigmoid(logit(threshold) / T)``."""
    z = np.log(threshold) - np.log1p(-threshold)
    return float(1.0 / (1.0 + np.exp(-z / temperature)))


def calibration_path(checkpoint) -> str:
    """The sidecar file that holds ``checkpoint``'s calibrated threshold."""
    return os.fspath(checkpoint) + SIDECAR_SUFFIX


def save_calibration(checkpoint, info: dict) -> str:
    """Store ``info`` (with its ``'threshold'``) in the sidecar of ``checkpoint`` with the
    checkpoint's SHA-256, atomically; returns the sidecar's path. The checkpoint is not
    modified."""
    if not 0 < float(info.get('threshold', -1)) < 1:
        raise DataError(f'calibration: threshold must be in (0, 1), got {info.get("threshold")}')
    checkpoint = os.fspath(checkpoint)
    if not osp.isfile(checkpoint):
        raise CheckpointError(f'checkpoint file {checkpoint} does not exist')
    record = {k: (float(v) if isinstance(v, (float, np.floating)) else v)
              for k, v in info.items()}
    record.update(checkpoint=osp.basename(checkpoint),
                  checkpoint_sha256=sha256_file(checkpoint))
    path = calibration_path(checkpoint)
    atomic_write_json(path, record)
    return path


def load_calibration(checkpoint) -> Optional[dict]:
    """The calibration record stored beside ``checkpoint``; ``None`` when there is none, or
    (with a :class:`CalibrationWarning`) when it was made for another version of the file."""
    path = calibration_path(checkpoint)
    if not osp.isfile(path):
        return None
    try:
        with open(path) as f:
            record = json.load(f)
        threshold = float(record['threshold'])
    except (OSError, ValueError, KeyError, TypeError) as err:
        warnings.warn(f'{path}: unreadable calibration file ({type(err).__name__}: {err}); '
                      'ignored', CalibrationWarning, stacklevel=2)
        return None
    digest = sha256_file(checkpoint)
    if record.get('checkpoint_sha256') != digest:
        warnings.warn(f'{path} was calibrated for another version of {checkpoint} (sha256 '
                      f'{str(record.get("checkpoint_sha256"))[:12]}..., the file has '
                      f'{digest[:12]}...): ignored; recalibrate with tools/test.py --calibrate',
                      CalibrationWarning, stacklevel=2)
        return None
    return dict(record, threshold=threshold)


def calibrate_threshold(cfg, checkpoint) -> dict:
    """Run ``cfg``'s validation split with the weights of ``checkpoint`` under
    :class:`~lszoo.evaluation.metrics.ThresholdCalibrationMetric`, fit the temperature and the
    landslide-F1 maximising threshold, and store them beside the checkpoint (rank 0). Returns
    the stored record (``threshold`` on the calibrated probability, ``threshold_uncalibrated``,
    ``temperature``, ``nll_before`` / ``nll_after``, ``F1`` and ``IoU`` as fractions,
    ``split``, ``config``).

    A ``LandslideTTAModel`` wrapper is calibrated without its views (the validation pipeline
    has none).
    """
    import copy

    from lszoo.utils.runner import build_runner, custom_hooks_without

    name = getattr(cfg, 'filename', None) or '<config>'
    if not cfg.get('val_dataloader') or not cfg.get('val_cfg'):
        raise ConfigError(f'calibration: config {name} has no validation split '
                          '(val_dataloader / val_cfg)')
    vcfg = copy.deepcopy(cfg)
    vcfg.load_from, vcfg.resume = os.fspath(checkpoint), False
    vcfg.val_evaluator = dict(type='ThresholdCalibrationMetric', temperature=True,
                              probe_temperature=PROBE_TEMPERATURE)
    if vcfg.model.get('type') == 'LandslideTTAModel':
        vcfg.model = vcfg.model.module
    vcfg.custom_hooks = custom_hooks_without(vcfg, 'LandslideOverlayHook',
                                             'CalibrateThresholdHook')
    if vcfg.get('default_hooks'):  # a save_best checkpoint hook would act on the calibration run
        vcfg.default_hooks['checkpoint'] = None
    from lszoo.models.decode_heads.temperature import set_temperature
    runner = build_runner(vcfg)
    set_temperature(runner.model, PROBE_TEMPERATURE)
    metrics = runner.val()
    t, temp = float(metrics['threshold']), float(metrics['temperature'])
    info = dict(threshold=calibrated_threshold(t, temp), threshold_uncalibrated=t,
                temperature=temp, nll_before=float(metrics['nll_before']),
                nll_after=float(metrics['nll_after']), F1=metrics['F1'] / 100,
                IoU=metrics['IoU'] / 100, split='val', config=osp.basename(name))
    if runner.rank == 0:
        save_calibration(checkpoint, info)
    return info
