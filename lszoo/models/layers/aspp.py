"""Atrous spatial pyramid pooling as a stand-alone layer (no stride assumptions).

Chen et al., "Rethinking Atrous Convolution for Semantic Image Segmentation" (DeepLabv3,
arXiv:1706.05587). GeoNeXt applies it at full image resolution after its last upsampling step,
whereas mmseg's ``ASPPHead`` is a whole decode head on a stride-8 feature map; this layer reuses
mmseg's ``ASPPModule`` branches and adds the image-pooling branch and the projection.
"""
import warnings
from typing import Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.aspp_head import ASPPModule
from mmseg.registry import MODELS


@MODELS.register_module()
class AtrousPyramidPooling(nn.Module):
    """ASPP: parallel 1x1 / dilated 3x3 convs and image pooling, concatenated and projected.

    Branches (GeoNeXt: dilations 1, 6, 12, 18; 64 channels): a 1x1 conv for dilation 1 and a 3x3
    conv with that dilation otherwise, each conv + norm + activation; an image-pooling branch
    (global average pool, 1x1 conv with bias, activation, upsampled back; no norm so that it also
    trains with batch size 1); then concat -> 1x1 conv, norm, activation.

    Args:
        in_channels: input channels.
        channels: channels of each branch and of the output.
        dilations: one branch per dilation.
        conv_bias: give the branch convs a bias (GeoNeXt does, although a BN follows).
        project_bias: give the projection conv a bias (GeoNeXt's reference does; in eval mode
            it only shifts the BN's running mean, in training the batch statistics cancel it,
            but it is a parameter of the reference, so checkpoints carry it over one-to-one).
        norm_cfg / act_cfg: mmcv configs.
        image_pool: add the image-pooling branch.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int = 64,
                 dilations: Sequence[int] = (1, 6, 12, 18),
                 conv_bias: bool = True,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='ReLU'),
                 image_pool: bool = True,
                 project_bias: bool = True):
        super().__init__()
        self.branches = ASPPModule(tuple(dilations), in_channels, channels, None, norm_cfg,
                                   act_cfg)
        if conv_bias:
            for branch in self.branches:
                if branch.conv.bias is None:
                    branch.conv.bias = nn.Parameter(torch.zeros(channels))
                    branch.with_bias = True
        self.image_pool = None
        if image_pool:
            self.image_pool = nn.Sequential(
                nn.AdaptiveAvgPool2d(1),
                ConvModule(in_channels, channels, 1, bias=True, norm_cfg=None, act_cfg=None))
        n = len(dilations) + (1 if image_pool else 0)
        with warnings.catch_warnings():  # the bias before the BN is deliberate (see above)
            warnings.filterwarnings('ignore', message='Unnecessary conv bias')
            self.project = ConvModule(n * channels, channels, 1, bias=project_bias,
                                      norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = list(self.branches(x))
        if self.image_pool is not None:
            pooled = self.image_pool(x)
            outs.append(pooled.expand(-1, -1, x.shape[2], x.shape[3]))
        return self.project(torch.cat(outs, dim=1))
