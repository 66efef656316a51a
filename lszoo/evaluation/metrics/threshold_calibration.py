"""Validation-split metric that finds the landslide-F1-maximising probability threshold."""
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmseg.registry import METRICS

from lszoo.errors import ConfigError, DataError
from ..calibration import best_f1_threshold_from_histograms, probability_bins
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
    """

    default_prefix: Optional[str] = None

    def __init__(self, bins: int = 1000, ignore_index: int = 255, collect_device: str = 'cpu',
                 prefix: Optional[str] = None, collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        if int(bins) < 2:
            raise ConfigError(f'ThresholdCalibrationMetric: bins must be >= 2, got {bins}')
        self.bins, self.ignore_index = int(bins), ignore_index
        # reuse LandslideMetric's checks of seg_logits (shape, range, softmax of 2 channels)
        self._prob = LandslideMetric(threshold=0.5, ignore_index=ignore_index)

    def _probability(self, sample) -> torch.Tensor:
        logits = _get(sample, 'seg_logits')
        if logits is None:
            raise DataError('ThresholdCalibrationMetric: a sample has no seg_logits')
        self._prob._prediction(sample)  # validates shape and range
        return logits[0].float() if logits.shape[0] == 1 else logits.float().softmax(0)[1]

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            prob = self._probability(sample)
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
            self.results.append(torch.stack([pos, neg]).cpu().numpy())

    def compute_metrics(self, results: list) -> Dict[str, float]:
        hist = np.sum(results, axis=0) if results else np.zeros((2, self.bins + 1), np.int64)
        threshold, f1 = best_f1_threshold_from_histograms(hist[0], hist[1])
        j = int(round(threshold * self.bins))
        tp, fp = hist[0][j + 1:].sum(), hist[1][j + 1:].sum()
        fn = hist[0].sum() - tp
        iou = tp / (tp + fp + fn)
        print_log(f'threshold calibration: prob > {threshold:g} maximises landslide F1 on '
                  f'{len(results)} images: F1 {100 * f1:.2f}, IoU {100 * iou:.2f} '
                  f'(TP {tp} FP {fp} FN {fn})', logger='current')
        return dict(threshold=threshold, F1=100 * f1, IoU=100 * float(iou))
