"""Binary Dice loss for one-channel (sigmoid) or two-channel (softmax) landslide models."""
from mmseg.registry import MODELS

from .binary_utils import BinaryLoss, binary_inputs, reduce_dims


@MODELS.register_module()
class BinaryDiceLoss(BinaryLoss):
    """``1 - (2 sum(p t) + s) / (sum(p) + sum(t) + s)`` over the landslide probability ``p``.

    Soft Dice as in Milletari et al., "V-Net" (3DV 2016), with first powers in the denominator.
    mmseg's ``DiceLoss`` one-hot encodes labels over the output channels, so with one channel it
    scores the *background* and treats ignored pixels as labels; this one scores the landslide
    class for ``(N, 1, H, W)`` sigmoid and ``(N, 2, H, W)`` softmax logits and drops pixels equal to
    ``ignore_index``. Sums run over the whole batch (``per_image=False``) or per image, then the
    per-image losses are averaged.
    """

    def __init__(self, smooth=1.0, per_image=False, loss_weight=1.0, loss_name='loss_dice'):
        super().__init__(loss_weight, loss_name)
        self.smooth = smooth
        self.per_image = per_image

    def forward(self, pred, target, weight=None, ignore_index=255, **kwargs):
        p, t, v = binary_inputs(pred, target, weight, ignore_index)
        dims = reduce_dims(self.per_image)
        inter = (v * p * t).sum(dims)
        denom = (v * p).sum(dims) + (v * t).sum(dims)
        dice = (2 * inter + self.smooth) / (denom + self.smooth)
        return self.loss_weight * (1 - dice).mean()
