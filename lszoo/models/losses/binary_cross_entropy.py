"""Binary cross-entropy over the landslide class, one (sigmoid) or two (softmax) channels."""
import torch.nn.functional as F
from mmseg.registry import MODELS

from .binary_utils import BinaryLoss, binary_inputs


@MODELS.register_module()
class BinaryCrossEntropyLoss(BinaryLoss):
    """Mean binary cross-entropy over the non-ignored pixels.

    mmseg's ``CrossEntropyLoss(use_sigmoid=True, avg_non_ignore=True)`` computes the same value for
    one output channel, but raises ``RuntimeError: max(): ... numel() == 0`` when every label of a
    batch is ``ignore_index`` (a crop inside a no-data area); this loss returns 0 there. With two
    softmax channels it is the cross-entropy of the landslide-vs-background softmax. ``pos_weight``
    multiplies the landslide term (as in ``torch.nn.BCEWithLogitsLoss``).
    """

    def __init__(self, pos_weight=None, loss_weight=1.0, loss_name='loss_bce'):
        super().__init__(loss_weight, loss_name)
        self.pos_weight = pos_weight

    def forward(self, pred, target, weight=None, ignore_index=255, **kwargs):
        _, t, v = binary_inputs(pred, target, weight, ignore_index)
        if pred.shape[1] == 1:
            log_p = F.logsigmoid(pred[:, 0])
            log_q = F.logsigmoid(-pred[:, 0])
        else:
            log_softmax = pred.log_softmax(dim=1)
            log_p, log_q = log_softmax[:, 1], log_softmax[:, 0]
        pos = 1.0 if self.pos_weight is None else self.pos_weight
        loss = -(pos * t * log_p + (1 - t) * log_q)
        valid = (v > 0).sum().clamp(min=1)
        return self.loss_weight * (v * loss).sum() / valid
