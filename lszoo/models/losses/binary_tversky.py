"""Binary Tversky loss for one-channel (sigmoid) or two-channel (softmax) landslide models."""
from mmseg.registry import MODELS

from .binary_utils import BinaryLoss, binary_inputs, tversky_index


@MODELS.register_module()
class BinaryTverskyLoss(BinaryLoss):
    """``1 - TI`` with the soft Tversky index ``TI = (TP + s) / (TP + alpha FP + beta FN + s)``.

    Salehi et al., "Tversky loss function for image segmentation using 3D fully convolutional deep
    networks" (MLMI 2017). ``alpha`` weighs false positives, ``beta`` false negatives: the defaults
    0.3 / 0.7 favour recall, as in DiGATe-UNet's Bijie recipe, which sums TP/FP/FN over the whole
    batch (``per_image=False``, the default) with ``smooth=1e-6``. ``per_image=True`` computes one
    index per image and averages the losses.

    mmseg's ``TverskyLoss`` is softmax over classes and does not work with one output channel;
    this one takes ``(N, 1, H, W)`` sigmoid or ``(N, 2, H, W)`` softmax logits and ``(N, H, W)``
    labels, pixels equal to ``ignore_index`` excluded.
    """

    def __init__(self, alpha=0.3, beta=0.7, smooth=1e-6, per_image=False, loss_weight=1.0,
                 loss_name='loss_tversky'):
        super().__init__(loss_weight, loss_name)
        self.alpha = alpha
        self.beta = beta
        self.smooth = smooth
        self.per_image = per_image

    def forward(self, pred, target, weight=None, ignore_index=255, **kwargs):
        p, t, v = binary_inputs(pred, target, weight, ignore_index)
        ti = tversky_index(p, t, v, self.alpha, self.beta, self.smooth, self.per_image)
        return self.loss_weight * (1 - ti).mean()
