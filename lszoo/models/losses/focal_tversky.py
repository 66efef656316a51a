"""Focal Tversky loss for one-channel (sigmoid) or two-channel (softmax) landslide models."""
from mmseg.registry import MODELS

from .binary_utils import BinaryLoss, binary_inputs, tversky_index


@MODELS.register_module()
class FocalTverskyLoss(BinaryLoss):
    """``(1 - TI) ** gamma`` with the soft Tversky index ``TI`` (alpha on false positives).

    Abraham and Khan, "A novel focal Tversky loss function with improved attention U-Net for lesion
    segmentation" (ISBI 2019). Note the exponent: the paper writes ``(1 - TI) ** (1 / gamma)``;
    here ``gamma`` is the exponent itself (the paper's gamma = 4/3 is ``gamma=0.75`` here), which is
    how GeoNeXt's reference code uses it. GeoNeXt's recipe as run: ``alpha=1.0, beta=0.7,
    gamma=2.0, smooth=1.0, per_image=True`` (one index per image, losses averaged); see
    docs/metrics.md.
    """

    def __init__(self, alpha=0.3, beta=0.7, gamma=2.0, smooth=1.0, per_image=False,
                 loss_weight=1.0, loss_name='loss_focal_tversky'):
        super().__init__(loss_weight, loss_name)
        self.alpha = alpha
        self.beta = beta
        self.gamma = gamma
        self.smooth = smooth
        self.per_image = per_image

    def forward(self, pred, target, weight=None, ignore_index=255, **kwargs):
        p, t, v = binary_inputs(pred, target, weight, ignore_index)
        ti = tversky_index(p, t, v, self.alpha, self.beta, self.smooth, self.per_image)
        # clamp: 1 - TI can round to a tiny negative, and x ** gamma (gamma < 1) would be nan
        return self.loss_weight * (1 - ti).clamp(min=0).pow(self.gamma).mean()
