"""Shared pieces of the binary (landslide vs background) losses.

Every lszoo loss accepts the two output conventions of the sample contract
(docs/architecture.md): one channel of sigmoid logits ``(N, 1, H, W)`` or two channels of softmax
logits ``(N, 2, H, W)``. Both are reduced here to the landslide probability ``p`` ``(N, H, W)``,
the float target ``t`` and a per-pixel weight ``v`` that is 0 on ignored pixels, so that each loss
is written once, over sums of ``v * ...``.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from lszoo.errors import ConfigError, DataError


def landslide_probability(pred: Tensor) -> Tensor:
    """Landslide probability ``(N, H, W)`` from ``(N, 1, H, W)`` sigmoid or ``(N, 2, H, W)``
    softmax logits."""
    if pred.dim() != 4 or pred.shape[1] not in (1, 2):
        raise ConfigError(
            f'binary loss: prediction must have shape (N, 1, H, W) (sigmoid) or (N, 2, H, W) '
            f'(softmax), got {tuple(pred.shape)}; set the decode head to out_channels=1 or 2')
    if pred.shape[1] == 1:
        return pred[:, 0].sigmoid()
    return pred.softmax(dim=1)[:, 1]


def binary_inputs(pred: Tensor,
                  target: Tensor,
                  weight: Optional[Tensor] = None,
                  ignore_index: Optional[int] = 255) -> Tuple[Tensor, Tensor, Tensor]:
    """Return ``(p, t, v)``: landslide probability, 0/1 float target, per-pixel weight.

    ``target`` is ``(N, H, W)`` (or ``(N, 1, H, W)``) with 0 background, 1 landslide and
    ``ignore_index`` ignored; ``weight`` (optional, broadcastable to ``(N, H, W)``, e.g. mmseg's
    sampler weights) multiplies ``v``. Any other label value is a data error (a 0/255 mask read
    as-is would otherwise train on nothing).
    """
    p = landslide_probability(pred)
    if target.dim() == 4 and target.shape[1] == 1:
        target = target[:, 0]
    if target.shape != p.shape:
        raise DataError(f'binary loss: label shape {tuple(target.shape)} does not match the '
                        f'prediction {tuple(pred.shape)} (expected (N, H, W) = {tuple(p.shape)})')
    valid = torch.ones_like(target, dtype=torch.bool) if ignore_index is None \
        else target != ignore_index
    bad = valid & (target != 0) & (target != 1)
    if bool(bad.any()):
        values = torch.unique(target[bad])[:5].tolist()
        raise DataError(f'binary loss: labels must be 0 (background), 1 (landslide) or '
                        f'{ignore_index} (ignored), found {values}')
    t = (target == 1).to(p.dtype)
    v = valid.to(p.dtype)
    if weight is not None:
        v = v * weight.to(p.dtype)
    return p, t, v


def reduce_dims(per_image: bool) -> Tuple[int, ...]:
    """Dimensions to sum over: the whole batch at once (``(0, 1, 2)``), or each image
    (``(1, 2)``)."""
    return (1, 2) if per_image else (0, 1, 2)


def tversky_index(p: Tensor, t: Tensor, v: Tensor, alpha: float, beta: float, smooth: float,
                  per_image: bool) -> Tensor:
    """Soft Tversky index (TP + s) / (TP + alpha FP + beta FN + s), alpha on false positives.

    Tversky, "Features of similarity" (1977); as a segmentation loss: Salehi et al.,
    "Tversky loss function for image segmentation using 3D fully convolutional deep networks"
    (MLMI 2017). Returns a scalar (whole batch) or one value per image.
    """
    dims = reduce_dims(per_image)
    tp = (v * p * t).sum(dims)
    fp = (v * p * (1 - t)).sum(dims)
    fn = (v * (1 - p) * t).sum(dims)
    return (tp + smooth) / (tp + alpha * fp + beta * fn + smooth)


class BinaryLoss(nn.Module):
    """Base of lszoo's binary losses: mmseg's loss interface (``loss_weight``, ``loss_name``).

    mmseg sums loss items with the same name, and only items whose name starts with ``loss_``
    take part in the backward pass.
    """

    def __init__(self, loss_weight: float = 1.0, loss_name: str = 'loss_binary'):
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        """Name of the loss item in the loss dict."""
        return self._loss_name
