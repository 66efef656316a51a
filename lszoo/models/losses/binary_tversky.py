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

    ``ignore_empty=True`` gives 0 (and no gradient) where the target has no landslide pixel (the
    whole batch, or the image with ``per_image``), as smp's ``TverskyLoss`` that DiGATe-UNet's
    reference trains with; ``False`` (default) gives ``1 - s / (alpha FP + s)``, about 1 as soon
    as anything is predicted there, which also pushes false positives down on empty batches.
    """

    def __init__(self, alpha=0.3, beta=0.7, smooth=1e-6, per_image=False, loss_weight=1.0,
                 loss_name='loss_tversky', ignore_empty=False):
        super().__init__(loss_weight, loss_name)
        self.ignore_empty = ignore_empty
        self.alpha = alpha
        self.beta = beta
        self.smooth = smooth
        self.per_image = per_image

    def forward(self, pred, target, weight=None, ignore_index=255, **kwargs):
        p, t, v = binary_inputs(pred, target, weight, ignore_index)
        ti = tversky_index(p, t, v, self.alpha, self.beta, self.smooth, self.per_image)
        loss = 1 - ti
        if self.ignore_empty:
            # smp's TverskyLoss (DiGATe's reference): no landslide pixel -> loss 0, no gradient
            dims = (1, 2) if self.per_image else (0, 1, 2)
            loss = loss * ((v * t).sum(dims) > 0).to(loss.dtype)
        return self.loss_weight * loss.mean()
