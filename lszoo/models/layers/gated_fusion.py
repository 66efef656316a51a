"""Gated fusion of two feature maps, the fusion rule of DiGATe-UNet.

A 1x1 convolution over ``cat[a, b]`` gives a per-pixel weight ``alpha = sigmoid(.)`` (one channel)
and the output is ``alpha * a + (1 - alpha) * b``. The paper adds ``mean(alpha * (1 - alpha))`` to
the loss (with weight 1e-3): it is largest at alpha = 0.5, so it pushes each gate to choose a stream
instead of averaging them. The block returns that regulariser with the fused map.
"""
import torch
import torch.nn as nn
from mmseg.registry import MODELS


@MODELS.register_module()
class GatedFusion(nn.Module):
    """``out = alpha * a + (1 - alpha) * b`` with ``alpha = sigmoid(conv1x1(cat[a, b]))``.

    Args:
        channels: channels of each input (both inputs have the same shape).

    ``forward(a, b)`` returns ``(out, reg)`` where ``reg = mean(alpha * (1 - alpha))`` is a scalar
    tensor in [0, 0.25].
    """

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        self.gate = nn.Conv2d(2 * channels, 1, 1, bias=True)

    def alpha(self, a, b):
        """The per-pixel weight of ``a`` (N, 1, H, W)."""
        if a.shape != b.shape:
            raise ValueError(f'GatedFusion: inputs must have the same shape, got '
                             f'{tuple(a.shape)} and {tuple(b.shape)}')
        return torch.sigmoid(self.gate(torch.cat([a, b], dim=1)))

    def forward(self, a, b):
        alpha = self.alpha(a, b)
        out = torch.addcmul(b, alpha, a - b)  # = alpha*a + (1-alpha)*b with one product
        reg = (alpha * (1 - alpha)).mean()
        return out, reg
