"""Small convolution blocks shared by the DiGATe-UNet layers.

DiGATe-UNet normalises every decoder convolution with a one-group GroupNorm (a LayerNorm over C, H,
W that does not depend on the batch size), so ``norm_cfg`` defaults to ``dict(type='GN',
num_groups=1)`` here.
"""
from typing import Optional

import torch.nn as nn
from mmcv.cnn import ConvModule

GN1 = dict(type='GN', num_groups=1)


class DoubleConv(nn.Sequential):
    """``[3x3 conv (no bias), norm, ReLU]`` twice: the U-Net decoder block.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        mid_channels: channels after the first convolution (default ``out_channels``).
        norm_cfg / act_cfg: mmcv norm and activation configs.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 mid_channels: Optional[int] = None,
                 norm_cfg: dict = GN1,
                 act_cfg: dict = dict(type='ReLU')):
        mid_channels = out_channels if mid_channels is None else mid_channels
        super().__init__(
            ConvModule(in_channels, mid_channels, 3, padding=1, bias=False,
                       norm_cfg=norm_cfg, act_cfg=act_cfg),
            ConvModule(mid_channels, out_channels, 3, padding=1, bias=False,
                       norm_cfg=norm_cfg, act_cfg=act_cfg))


def reset_convs_to_pytorch_default(module: nn.Module) -> None:
    """Re-initialise every ``nn.Conv2d`` below ``module`` with PyTorch's default
    (``reset_parameters``: kaiming-uniform with a=sqrt(5), bias U(+-1/sqrt(fan_in))).

    mmcv's ``ConvModule`` (at construction and in ``init_weights``) and mmseg's decode head
    (``conv_seg``: normal, std 0.01) use their own initialisations; DiGATe-UNet's reference
    builds plain ``nn.Conv2d`` layers, whose default starts with 1.7-9.5x less weight spread
    than mmcv's kaiming init in its decoder. The outputs at initialisation agree (a GroupNorm
    follows), but Adam's relative steps do not.
    """
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            m.reset_parameters()
