"""The per-pixel uncertainty layer of scene mapping (``map_scene(..., uncertainty=PATH)``).

Which quantity depends on whether the run has test-time augmentation, and the file says which
(band description and the ``LSZOO_UNCERTAINTY`` tag):

* with ``tta`` (``flip``/``d4``): ``tta_std``, the standard deviation (population, over the
  ``V`` views) of the landslide probability of each tile, blended between overlapping tiles with
  the same weights as the probability. It measures how much the model's answer depends on the
  orientation of the image, which the probability alone does not tell; range [0, 0.5].
* without TTA: ``entropy``, the binary entropy in bits of the blended (calibrated) probability,
  ``-p log2 p - (1 - p) log2 (1 - p)``; range [0, 1], 1 at ``p = 0.5``. It is a function of the
  probability map, a convenience for display and for thresholding "unsure" areas; a model that
  is confidently wrong has low entropy.

Both are float32 with the probability map's nodata where the input is nodata, written window by
window (bounded memory) by :class:`~lszoo.apis.scene.writer.SceneWriter`.
"""
from typing import Callable, Optional

import numpy as np
import torch

from lszoo.utils.tta import apply_op, invert_op, tta_ops

#: band description of each kind
DESCRIPTIONS = {
    'tta_std': 'landslide probability standard deviation over the test-time augmentation views',
    'entropy': 'binary entropy (bits) of the landslide probability',
}


def uncertainty_kind(tta: str) -> str:
    """``'tta_std'`` with test-time augmentation, ``'entropy'`` without."""
    return 'entropy' if tta in (None, 'none') else 'tta_std'


def tta_mean_std(prob_fn: Callable[[torch.Tensor], torch.Tensor], batch: torch.Tensor,
                 mode: str = 'flip') -> torch.Tensor:
    """``N x 2 x H x W``: the mean (as :func:`lszoo.utils.tta.tta_probabilities`) and the
    population standard deviation of ``prob_fn`` over the views of ``mode``."""
    views = torch.stack([invert_op(prob_fn(apply_op(batch, op)), op) for op in tta_ops(mode)])
    std, mean = torch.std_mean(views.double(), dim=0, correction=0)
    return torch.stack([mean, std], 1).to(views.dtype)


def binary_entropy(prob: np.ndarray) -> np.ndarray:
    """Binary entropy in bits of a probability array (0 at ``p`` = 0 or 1), float32."""
    p = np.clip(np.asarray(prob, np.float64), 0.0, 1.0)
    with np.errstate(divide='ignore', invalid='ignore'):
        h = -(np.where(p > 0, p * np.log2(p), 0.0) + np.where(p < 1, (1 - p) * np.log2(1 - p),
                                                               0.0))
    return h.astype(np.float32)


def split_block(prob: Optional[np.ndarray], kind: Optional[str]):
    """``(probability, uncertainty)`` of a blended block: ``prob`` is ``H x W``, or ``2 x H x W``
    (probability, TTA spread) when the tiles carried their spread. ``kind`` ``None``: no
    uncertainty is written."""
    if prob is None:
        return None, None
    p, spread = (prob[0], prob[1]) if prob.ndim == 3 else (prob, None)
    if kind is None:
        return p, None
    if kind == 'tta_std':
        return p, np.ascontiguousarray(spread)
    return p, binary_entropy(p)


def tag_uncertainty(ds, kind: str, tta: str) -> None:
    """Band description and tags of an open uncertainty raster."""
    ds.set_band_description(1, DESCRIPTIONS[kind])
    ds.update_tags(LSZOO_UNCERTAINTY=kind, LSZOO_TTA=str(tta))
