"""Additive attention gate (Oktay et al., "Attention U-Net", MIDL 2018), as used in DiGATe-UNet.

The decoder feature ``g`` decides where the skip feature ``x`` matters: ``psi = sigmoid(BN(conv1x1(
relu(norm(conv1x1 g) + norm(conv1x1 x)))))`` is a one-channel map in [0, 1] and the output is
``psi * x``. DiGATe-UNet normalises the one-channel logit with a BatchNorm without
affine parameters to keep it away from saturation; ``g`` and ``x`` have the same size.
"""
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.registry import MODELS

from .conv_blocks import GN1


@MODELS.register_module()
class AttentionGate(nn.Module):
    """Gate a skip feature ``x`` with a gating feature ``g`` of the same spatial size.

    Args:
        gate_channels: channels of ``g``.
        in_channels: channels of ``x`` (also of the output).
        inter_channels: width of the joint embedding (at least 1).
        norm_cfg: norm after each 1x1 projection (default one-group GroupNorm).
    """

    def __init__(self, gate_channels: int, in_channels: int, inter_channels: int,
                 norm_cfg: dict = GN1):
        super().__init__()
        inter_channels = max(1, int(inter_channels))
        self.proj_g = ConvModule(gate_channels, inter_channels, 1, bias=False,
                                 norm_cfg=norm_cfg, act_cfg=None)
        self.proj_x = ConvModule(in_channels, inter_channels, 1, bias=False,
                                 norm_cfg=norm_cfg, act_cfg=None)
        self.psi = nn.Sequential(
            nn.ReLU(inplace=True),
            nn.Conv2d(inter_channels, 1, 1, bias=False),
            nn.BatchNorm2d(1, affine=False),
            nn.Sigmoid())

    def attention(self, g, x):
        """The one-channel attention map ``psi`` (N, 1, H, W)."""
        if g.shape[-2:] != x.shape[-2:]:
            raise ValueError(f'AttentionGate: gating map {tuple(g.shape[-2:])} and skip map '
                             f'{tuple(x.shape[-2:])} must have the same height and width')
        return self.psi(self.proj_g(g) + self.proj_x(x))

    def forward(self, g, x):
        return self.attention(g, x) * x
