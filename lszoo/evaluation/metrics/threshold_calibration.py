"""Validation-split metric that finds the landslide-F1-maximising probability threshold and
fits the temperature of the landslide logits."""
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmseg.registry import METRICS

from lszoo.errors import ConfigError, DataError
from ..calibration import best_f1_threshold_from_histograms, probability_bins
from ..probability_calibration import fit_temperature
from .landslide_metric import LandslideMetric, _get


@METRICS.register_module()
class ThresholdCalibrationMetric(BaseMetric):
    """Accumulates per-image histograms of the landslide probability of landslide and background
    pixels, and returns the threshold ``j / bins`` that maximises the split's landslide F1
    (:func:`~lszoo.evaluation.calibration.best_f1_threshold_from_histograms`).

    Returns ``threshold`` (a probability), ``F1`` and ``IoU`` (percentages) at that threshold.
    The probability is read from ``seg_logits`` as :class:`LandslideMetric` does (sigmoid for
    one channel, already applied by mmseg; softmax class 1 for two). One record per image
    (``2 * (bins + 1)`` counts) keeps distributed gathering exact.

    With ``temperature=True`` it also keeps per-class histograms of the landslide logit ``z``
    (``logit_step`` wide bins over ``[-logit_range, logit_range]``, values beyond in the end
    bins) and returns ``temperature`` fitted on them
    (:func:`~lszoo.evaluation.probability_calibration.fit_temperature`), ``nll_before`` and
    ``nll_after``. ``probe_temperature``: the temperature the model runs with during this pass
    (:func:`lszoo.models.decode_heads.temperature.set_temperature`), undone here; a probe of 8
    keeps a one-channel model's float32 sigmoid from saturating at ``|z|`` > 17, so ``z`` is
    recovered from it, and the threshold histograms use ``sigmoid(z)`` as without a probe.
    """

    default_prefix: Optional[str] = None

    def __init__(self, bins: int = 1000, ignore_index: int = 255, collect_device: str = 'cpu',
                 prefix: Optional[str] = None, collect_dir: Optional[str] = None,
                 temperature: bool = False, probe_temperature: float = 1.0,
                 logit_range: float = 60.0, logit_step: float = 0.05) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        if int(bins) < 2:
            raise ConfigError(f'ThresholdCalibrationMetric: bins must be >= 2, got {bins}')
        self.bins, self.ignore_index = int(bins), ignore_index
        self.temperature, self.probe = bool(temperature), float(probe_temperature)
        self.logit_range, self.logit_step = float(logit_range), float(logit_step)
        self.n_logit = int(round(2 * self.logit_range / self.logit_step)) + 1
        # reuse LandslideMetric's checks of seg_logits (shape, range, softmax of 2 channels)
        self._prob = LandslideMetric(threshold=0.5, ignore_index=ignore_index)

    def _probability(self, sample) -> torch.Tensor:
        logits = _get(sample, 'seg_logits')
        if logits is None:
            raise DataError('ThresholdCalibrationMetric: a sample has no seg_logits')
        self._prob._prediction(sample)  # validates shape and range
        return logits[0].float() if logits.shape[0] == 1 else logits.float().softmax(0)[1]

    def _logit(self, sample) -> torch.Tensor:
        """The landslide logit ``z`` (float64), the probe temperature undone."""
        logits = _get(sample, 'seg_logits').double()
        if logits.shape[0] == 2:
            return self.probe * (logits[1] - logits[0])
        p = logits[0]
        return self.probe * (torch.log(p) - torch.log1p(-p))

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            prob = self._probability(sample)
            z = self._logit(sample) if self.temperature or self.probe != 1 else None
            if self.probe != 1:
                prob = torch.sigmoid(z)
            gt = _get(sample, 'gt_sem_seg')
            if gt is None:
                raise DataError('ThresholdCalibrationMetric: a sample has no gt_sem_seg')
            gt = gt.squeeze(0).to(prob.device).long()
            if gt.shape != prob.shape:
                raise DataError(f'ThresholdCalibrationMetric: prediction {tuple(prob.shape)} and '
                                f'label {tuple(gt.shape)} differ in size')
            idx = probability_bins(prob, self.bins)
            n = self.bins + 1
            pos = torch.bincount(idx[gt == 1], minlength=n)
            neg = torch.bincount(idx[gt == 0], minlength=n)
            record = torch.stack([pos, neg]).cpu().numpy()
            if self.temperature:
                zi = ((z.clamp(-self.logit_range, self.logit_range) + self.logit_range)
                      / self.logit_step).round().long()
                record = (record, torch.stack([
                    torch.bincount(zi[gt == c], minlength=self.n_logit)
                    for c in (1, 0)]).cpu().numpy().astype(np.int32))
            self.results.append(record)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        probs = [r[0] if isinstance(r, tuple) else r for r in results]
        hist = np.sum(probs, axis=0) if probs else np.zeros((2, self.bins + 1), np.int64)
        threshold, f1 = best_f1_threshold_from_histograms(hist[0], hist[1])
        j = int(round(threshold * self.bins))
        tp, fp = hist[0][j + 1:].sum(), hist[1][j + 1:].sum()
        fn = hist[0].sum() - tp
        iou = tp / (tp + fp + fn)
        print_log(f'threshold calibration: prob > {threshold:g} maximises landslide F1 on '
                  f'{len(results)} images: F1 {100 * f1:.2f}, IoU {100 * iou:.2f} '
                  f'(TP {tp} FP {fp} FN {fn})', logger='current')
        out = dict(threshold=threshold, F1=100 * f1, IoU=100 * float(iou))
        if self.temperature:
            out.update(self._fit_temperature(results))
        return out

    def _fit_temperature(self, results: list) -> Dict[str, float]:
        """``temperature``, ``nll_before``, ``nll_after`` from the logit histograms."""
        hist = np.sum([r[1].astype(np.int64) for r in results], axis=0)
        centres = np.arange(self.n_logit) * self.logit_step - self.logit_range
        fit = fit_temperature(np.r_[centres, centres], np.r_[np.ones(self.n_logit),
                                                             np.zeros(self.n_logit)],
                              weights=np.r_[hist[0], hist[1]])
        print_log(f"temperature calibration: T = {fit['temperature']:.4g} (NLL "
                  f"{fit['nll_before']:.4f} -> {fit['nll_after']:.4f} on {int(hist.sum())} "
                  'pixels)', logger='current')
        return dict(temperature=fit['temperature'], nll_before=fit['nll_before'],
                    nll_after=fit['nll_after'])
