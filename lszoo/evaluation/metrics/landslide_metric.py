"""Landslide metric: the three published evaluation protocols from one pass.

Why three: the landslide papers report numbers that are not comparable with each other because
they average differently (docs/metrics.md). From the same per-image pixel counts this metric
reports

* the standard (Landslide4Sense competition) figures of the landslide class over one global
  confusion matrix: ``IoU``, ``F1``, ``Precision``, ``Recall``;
* GeoNeXt's protocol, the mean over background and landslide of the global per-class figures:
  ``mIoU``, ``mF1``;
* DiGATe-UNet's protocol, the mean over images of per-image landslide IoU / F1, where an image with
  no landslide and an empty prediction scores 1: ``imgIoU``, ``imgF1``.

All values are percentages (x100, as mmseg's ``IoUMetric``).
"""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmseg.registry import METRICS
from prettytable import PrettyTable

from lszoo.errors import ConfigError, DataError
from .object_protocol import (bootstrap_metrics, bootstrap_options, object_metrics,
                              object_options, object_record)

#: column order of one per-image record
COUNT_FIELDS = ('tp', 'fp', 'fn', 'tn')


def _get(sample, key):
    """``sample[key]['data']`` for the dicts mmengine's evaluator passes, or attribute access for
    ``SegDataSample`` objects; ``None`` when absent."""
    if isinstance(sample, dict):
        field = sample.get(key)
        if field is None:
            return None
        return field['data'] if isinstance(field, dict) else field.data
    field = getattr(sample, key, None)
    return None if field is None else field.data


def _ratio(num: float, den: float) -> float:
    """``num / den``, ``nan`` when ``den == 0`` (the quantity is undefined)."""
    return float(num) / float(den) if den > 0 else float('nan')


def binary_scores(tp, fp, fn) -> Dict[str, float]:
    """IoU, F1, precision, recall of one class from its counts, as fractions.

    F1 is computed as ``2TP / (2TP + FP + FN)`` (equal to the harmonic mean of precision and recall
    whenever both exist), so it stays defined (0) when there are no predicted positives but some
    true ones. A value whose denominator is 0 is ``nan``.
    """
    return dict(
        IoU=_ratio(tp, tp + fp + fn),
        F1=_ratio(2 * tp, 2 * tp + fp + fn),
        Precision=_ratio(tp, tp + fp),
        Recall=_ratio(tp, tp + fn))


def _nanmean(values) -> float:
    values = np.asarray(values, dtype=np.float64)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float('nan')


@METRICS.register_module()
class LandslideMetric(BaseMetric):
    """Binary landslide metric with the standard, GeoNeXt and DiGATe protocols from one pass.

    Args:
        threshold (float, optional): decision threshold on the landslide *probability*. ``None``
            (default) uses the model's ``pred_sem_seg`` (argmax for two channels, the head's
            ``threshold`` for one channel). When set, the prediction is recomputed as
            ``prob > threshold`` from ``seg_logits``: for one channel mmseg stores there the
            sigmoid probability already, for two channels the softmax of the logits is taken
            (class 1). Both papers threshold logits at 0.5, i.e. probability
            ``sigmoid(0.5) = 0.6225``.
        ignore_index (int): label value excluded from every count. Default 255.
        collect_device (str): ``'cpu'`` or ``'gpu'``, how mmengine gathers results across ranks.
        prefix (str, optional): prefix of the metric keys (none by default: ``IoU``, ``F1``, ...).
        collect_dir (str, optional): directory for the CPU gathering of results.
        objects (bool or dict, optional): also report the per-landslide (object) protocol,
            ``object_recall``, ``object_precision``, ``object_f1`` (strict and ``_loose``), counts,
            areas, splits and merges, overall and ``@<size class>``
            (:mod:`.object_protocol`); a dict sets ``size_classes`` (edges), ``iou_threshold``,
            ``connectivity``. Off by default.
        bootstrap (bool, int or dict, optional): also report percentile bootstrap intervals
            ``<key>_ci_low`` / ``<key>_ci_high`` resampling images (``n_boot`` 1000,
            ``level`` 0.95, ``seed`` 0). Off by default.

    Each image contributes one record of four pixel counts (TP, FP, FN, TN of the landslide class),
    never a per-pixel array, so big test sets fit in memory; mmengine gathers the records of all
    ranks and drops the samples a distributed sampler padded (``evaluate(size)``), and all three
    protocols are computed on rank 0 from the gathered records.

    Degenerate cases: a figure whose denominator is 0 is ``nan`` (e.g. ``IoU``/``F1`` when no pixel
    of the split is landslide in truth or prediction, ``Precision`` when nothing is predicted);
    ``mIoU``/``mF1`` average the classes that are defined. ``imgIoU``/``imgF1`` score 1 for an
    image with no landslide and an empty prediction, and skip images whose pixels are all ignored.
    """

    #: No prefix: keys stay ``IoU``, ``F1``, ... ('' rather than mmengine's None, which only
    #: differs in logging "The prefix is not set in metric class ..." on every build).
    default_prefix: Optional[str] = ''

    def __init__(self,
                 threshold: Optional[float] = None,
                 ignore_index: int = 255,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None,
                 objects=None,
                 bootstrap=None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        self.objects, self.bootstrap = object_options(objects), bootstrap_options(bootstrap)
        if threshold is not None and not 0.0 < float(threshold) < 1.0:
            raise ConfigError(f'LandslideMetric: threshold is a probability in (0, 1), got '
                              f'{threshold!r} (a logit threshold t is probability 1/(1+exp(-t)), '
                              f'e.g. logit 0.5 -> 0.6225)')
        self.threshold = None if threshold is None else float(threshold)
        self.ignore_index = ignore_index

    # ---------------------------------------------------------------- per batch
    def _prediction(self, sample) -> torch.Tensor:
        """Boolean landslide prediction ``(H, W)`` of one sample."""
        name = sample.get('img_path', '?') if isinstance(sample, dict) else '?'
        if self.threshold is None:
            pred = _get(sample, 'pred_sem_seg')
            if pred is None:
                raise DataError(f'LandslideMetric: sample {name} has no pred_sem_seg')
            return pred.squeeze(0) == 1
        logits = _get(sample, 'seg_logits')
        if logits is None:
            raise DataError(f'LandslideMetric: threshold={self.threshold} needs seg_logits, '
                            f'sample {name} has none')
        if logits.dim() != 3 or logits.shape[0] not in (1, 2):
            raise DataError(f'LandslideMetric: seg_logits of sample {name} has shape '
                            f'{tuple(logits.shape)}; expected (1, H, W) or (2, H, W)')
        if logits.shape[0] == 1:
            prob = logits[0].float()
            if prob.numel() and (prob.min() < 0 or prob.max() > 1):
                raise DataError(
                    f'LandslideMetric: one-channel seg_logits of sample {name} holds values '
                    f'outside [0, 1]; mmseg stores the sigmoid probability there, so the '
                    f'segmentor does not follow mmseg\'s postprocess_result convention')
        else:
            prob = logits.float().softmax(dim=0)[1]
        return prob > self.threshold

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Append one ``int64`` record ``[TP, FP, FN, TN]`` per image to ``self.results``."""
        for sample in data_samples:
            pred = self._prediction(sample)
            gt = _get(sample, 'gt_sem_seg')
            name = sample.get('img_path', '?') if isinstance(sample, dict) else '?'
            if gt is None:
                raise DataError(f'LandslideMetric: sample {name} has no gt_sem_seg')
            gt = gt.squeeze(0).to(pred.device)
            if gt.shape != pred.shape:
                raise DataError(f'LandslideMetric: prediction {tuple(pred.shape)} and label '
                                f'{tuple(gt.shape)} of sample {name} differ in size')
            counts = self.count(pred, gt, self.ignore_index, name)
            if self.objects is None:
                self.results.append(counts)
                continue
            record, geo = object_record(pred.cpu().numpy(), gt.cpu().numpy(),
                                        self.ignore_index, sample, self.objects)
            self.results.append((counts, record, geo))

    @staticmethod
    def count(pred: torch.Tensor, gt: torch.Tensor, ignore_index: int = 255,
              name: str = '?') -> np.ndarray:
        """``[TP, FP, FN, TN]`` of the landslide class for one image; ``ignore_index`` excluded."""
        gt = gt.long()
        if gt.numel() == 0:
            return np.zeros(4, dtype=np.int64)
        if int(gt.min()) < 0:
            raise DataError(f'LandslideMetric: label of sample {name} holds negative values; '
                            f'expected 0 (background), 1 (landslide) or {ignore_index} (ignored)')
        # one pass: joint histogram of (label, prediction); row = label value, column = pred
        joint = torch.bincount((gt * 2 + pred.long()).flatten(), minlength=512)
        if joint.numel() % 2:
            joint = torch.cat([joint, joint.new_zeros(1)])
        joint = joint.view(-1, 2).cpu().numpy()
        if 0 <= ignore_index < len(joint):
            joint[ignore_index] = 0
        others = np.flatnonzero(joint[2:].sum(axis=1)) + 2
        if len(others):
            raise DataError(f'LandslideMetric: label of sample {name} holds '
                            f'{others[:5].tolist()}; expected 0 (background), 1 (landslide) or '
                            f'{ignore_index} (ignored)')
        (tn, fp), (fn, tp) = joint[0], joint[1]
        return np.array([tp, fp, fn, tn], dtype=np.int64)

    # ---------------------------------------------------------------- summary
    @staticmethod
    def summarize(records: np.ndarray) -> Dict[str, float]:
        """All eight keys (percentages) from an ``(N, 4)`` array of per-image counts."""
        records = np.asarray(records, dtype=np.int64).reshape(-1, 4)
        tp, fp, fn, tn = records.sum(axis=0)
        land = binary_scores(tp, fp, fn)
        # background as the positive class: its TP is the landslide TN, FP <-> FN swap
        back = binary_scores(tn, fn, fp)
        metrics = OrderedDict(
            IoU=land['IoU'], F1=land['F1'], Precision=land['Precision'], Recall=land['Recall'],
            mIoU=_nanmean([back['IoU'], land['IoU']]),
            mF1=_nanmean([back['F1'], land['F1']]))
        img_iou: List[float] = []
        img_f1: List[float] = []
        for itp, ifp, ifn, itn in records:
            if itp + ifp + ifn + itn == 0:  # every pixel ignored: nothing to score
                continue
            if itp + ifp + ifn == 0:  # no landslide in truth nor prediction
                img_iou.append(1.0)
                img_f1.append(1.0)
            else:
                img_iou.append(itp / (itp + ifp + ifn))
                img_f1.append(2 * itp / (2 * itp + ifp + ifn))
        metrics['imgIoU'] = float(np.mean(img_iou)) if img_iou else float('nan')
        metrics['imgF1'] = float(np.mean(img_f1)) if img_f1 else float('nan')
        return OrderedDict((k, v * 100) for k, v in metrics.items())

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Metrics from the records of all ranks; logs a per-class and a per-protocol table."""
        classes = (self.dataset_meta or {}).get('classes', ('background', 'landslide'))
        if len(classes) != 2:
            raise ConfigError(f'LandslideMetric is binary; the dataset has {len(classes)} '
                              f'classes {tuple(classes)}')
        pixels = [r[0] if isinstance(r, tuple) else r for r in results]
        records = np.stack(pixels) if pixels else np.zeros((0, 4), np.int64)
        metrics = self.summarize(records)
        tp, fp, fn, tn = records.sum(axis=0)
        back = binary_scores(tn, fn, fp)
        land = binary_scores(tp, fp, fn)

        def fmt(v):
            return f'{v * 100:.2f}' if np.isfinite(v) else 'nan'

        per_class = PrettyTable(['Class', 'IoU', 'F1', 'Precision', 'Recall'])
        for name, scores in zip(classes, (back, land)):
            per_class.add_row([name] + [fmt(scores[k]) for k in ('IoU', 'F1', 'Precision',
                                                                 'Recall')])
        protocols = PrettyTable(['Protocol', 'IoU', 'F1'])
        protocols.add_row(['standard: landslide, global (IoU, F1)',
                           fmt(land['IoU']), fmt(land['F1'])])
        protocols.add_row(['GeoNeXt: mean of 2 classes (mIoU, mF1)',
                           fmt(metrics['mIoU'] / 100), fmt(metrics['mF1'] / 100)])
        protocols.add_row(['DiGATe: mean over images (imgIoU, imgF1)',
                           fmt(metrics['imgIoU'] / 100), fmt(metrics['imgF1'] / 100)])
        threshold = 'pred_sem_seg' if self.threshold is None else f'prob > {self.threshold:g}'
        logger: MMLogger = MMLogger.get_current_instance()
        print_log(f'per class (global confusion matrix; {len(records)} images, TP {tp} FP {fp} '
                  f'FN {fn} TN {tn}; prediction: {threshold}):\n' + per_class.get_string(),
                  logger=logger)
        print_log('protocols:\n' + protocols.get_string(), logger=logger)
        return dict(metrics, **self._opt_in(results, records, logger))

    def _opt_in(self, results: list, pixels: np.ndarray, logger) -> Dict[str, float]:
        """The object protocol and bootstrap intervals, when asked for."""
        out: Dict[str, float] = {}
        objects, flags = None, [r[2] for r in results if isinstance(r, tuple)]
        if self.objects is not None and results:
            objects = np.stack([r[1] for r in results])
            out.update(object_metrics(objects, flags, self.objects,
                                      lambda m: print_log(m, logger=logger)))
        if self.bootstrap is not None and len(pixels):
            out.update(bootstrap_metrics(pixels, objects, flags, self.objects, self.bootstrap,
                                         lambda m: print_log(m, logger=logger)))
        return out
