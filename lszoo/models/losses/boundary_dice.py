"""Boundary-weighted ("boundary-boosted") Dice loss, as GeoNeXt trains with it."""
from mmseg.registry import MODELS

from .binary_utils import BinaryLoss, binary_inputs, reduce_dims


@MODELS.register_module()
class BoundaryDiceLoss(BinaryLoss):
    """Dice on re-weighted maps, the weight peaking where the prediction is uncertain.

    GeoNeXt (ConvNeXt V2 encoder + PSA-ASPP decoder for landslide segmentation; reference code
    github ruribev/GeoNeXt, ``utils/losses.py``) uses a "boundary-boosted" Dice whose weight map is
    computed from the *prediction*, not from the ground-truth contour:

    ``w = 1 + lam * (p (1 - p)) ** gamma``, ``p`` clamped to ``[eps, 1 - eps]``;
    ``dice = (2 sum(w p * w t) + s) / (sum(w p) + sum(w t) + s)``; loss ``1 - dice``.

    ``w >= 1`` everywhere and peaks (``1 + lam 0.25 ** gamma``) where ``p = 0.5``, which in a
    trained model is the band along landslide borders. ``lam=0`` gives plain Dice. Defaults are the
    reference's (``lam=0.1, gamma=1, smooth=1``, one Dice per image then averaged); like the
    reference, gradients flow through ``w`` unless ``detach_weight=True``. Ignored pixels
    (``ignore_index``) are dropped from all sums.
    """

    def __init__(self, lam=0.1, gamma=1.0, smooth=1.0, eps=1e-7, per_image=True,
                 detach_weight=False, loss_weight=1.0, loss_name='loss_boundary_dice'):
        super().__init__(loss_weight, loss_name)
        self.lam = lam
        self.gamma = gamma
        self.smooth = smooth
        self.eps = eps
        self.per_image = per_image
        self.detach_weight = detach_weight

    def forward(self, pred, target, weight=None, ignore_index=255, **kwargs):
        p, t, v = binary_inputs(pred, target, weight, ignore_index)
        p = p.clamp(self.eps, 1 - self.eps)
        w = 1 + self.lam * (p * (1 - p)).pow(self.gamma)
        if self.detach_weight:
            w = w.detach()
        dims = reduce_dims(self.per_image)
        inter = (v * (w * p) * (w * t)).sum(dims)
        denom = (v * w * p).sum(dims) + (v * w * t).sum(dims)
        dice = (2 * inter + self.smooth) / (denom + self.smooth)
        return self.loss_weight * (1 - dice).mean()
