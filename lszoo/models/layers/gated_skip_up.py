"""Attention-gated sub-pixel up-block: the shallower decoder steps of DiGATe-UNet.

``up = SubPixelUpsample(dec -> dec/2)``; the skip feature is gated by an attention gate driven by
``up`` (inter width ``max(1, min(dec/2, skip) // 4)``); ``DoubleConv(cat[gated skip, up]) -> out``.
"""
import torch
import torch.nn as nn
from mmseg.registry import MODELS

from .attention_gate import AttentionGate
from .conv_blocks import GN1, DoubleConv
from .utils import pad_to
from .subpixel_upsample import SubPixelUpsample


@MODELS.register_module()
class GatedSkipUp(nn.Module):
    """Upsample ``dec`` 2x, gate ``skip`` with it, concatenate and double-conv.

    Shape: ``dec (N, Cd, H, W), skip (N, Cs, 2H, 2W) -> (N, out, 2H, 2W)``.
    """

    def __init__(self, dec_channels: int, skip_channels: int, out_channels: int,
                 norm_cfg: dict = GN1):
        super().__init__()
        up_channels = dec_channels // 2
        self.up = SubPixelUpsample(dec_channels, up_channels, norm_cfg=norm_cfg)
        self.gate = AttentionGate(up_channels, skip_channels,
                                  max(1, min(up_channels, skip_channels) // 4), norm_cfg=norm_cfg)
        self.conv = DoubleConv(up_channels + skip_channels, out_channels, norm_cfg=norm_cfg)

    def forward(self, dec, skip):
        d = pad_to(self.up(dec), skip)
        return self.conv(torch.cat([self.gate(d, skip), d], dim=1))
