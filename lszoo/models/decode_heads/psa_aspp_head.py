"""GeoNeXt's decoder as an mmseg decode head: transposed-conv U-Net steps with PSA blocks, a x4
transposed conv to full resolution, ASPP there, and a small conv head.

GeoNeXt: "a pre-trained ConvNeXt V2 encoder with a decoder that utilizes Pyramid Squeeze Attention
and Atrous Spatial Pyramid Pooling" (github ruribev/GeoNeXt). PSA: EPSANet (arXiv:2105.14447);
ASPP: DeepLabv3 (arXiv:1706.05587).
"""
from typing import List, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS

from lszoo.errors import ConfigError
from lszoo.models.segmentors.auto_width_encoder_decoder import check_widths_resolved
from ..layers.aspp import AtrousPyramidPooling
from ..layers.utils import resize_to
from ..layers.psa import PSABlock


@MODELS.register_module()
class PSAASPPHead(BaseDecodeHead):
    """PSA-ASPP decode head (GeoNeXt).

    For encoder maps f1..f4 (strides 4..32, widths c1..c4), from the deepest up: transposed conv
    (k2, s2) c_{i+1} -> c_{i+1}/2, concat with f_i, PSA block -> c_i. Then a transposed conv
    (k ``final_upsample``, s ``final_upsample``) c1 -> c1 brings stride 4 to full resolution,
    ASPP (c1 -> ``aspp_channels``) runs there, then a 3x3 conv (bias) ``aspp_channels`` ->
    ``channels``, BN, ReLU, and mmseg's 1x1 ``conv_seg`` -> ``out_channels`` (1: sigmoid, 2:
    softmax). Any map whose size does not match its partner is resized bilinearly.

    Args:
        in_channels: encoder widths, shallow to deep (tiny: 96, 192, 384, 768), or ``'auto'``:
            filled from the encoder by ``AutoWidthEncoderDecoder``.
        channels: width of the conv before ``conv_seg`` (paper: 32).
        aspp_channels / aspp_dilations: ASPP width and dilations (paper: 64; 1, 6, 12, 18).
        final_upsample: factor of the last transposed conv (encoder stride of f1, 4).
        psa_kernels / psa_groups / psa_reduction: PSA module settings (EPSANet's defaults).
        **kwargs: ``BaseDecodeHead`` arguments (``num_classes``, ``out_channels``, ``threshold``,
            ``loss_decode``, ...); ``input_transform`` defaults to 'multiple_select' over all
            inputs and ``dropout_ratio`` to 0 (the paper uses no dropout).
    """

    def __init__(self,
                 in_channels: Sequence[int] = (96, 192, 384, 768),
                 channels: int = 32,
                 aspp_channels: int = 64,
                 aspp_dilations: Sequence[int] = (1, 6, 12, 18),
                 final_upsample: int = 4,
                 psa_kernels: Sequence[int] = (3, 5, 7, 9),
                 psa_groups: Sequence[int] = (1, 4, 8, 16),
                 psa_reduction: int = 16,
                 **kwargs):
        check_widths_resolved('PSAASPPHead', in_channels)
        in_channels = list(in_channels)
        if len(in_channels) < 2:
            raise ConfigError(f'PSAASPPHead: in_channels={in_channels} needs at least two maps')
        kwargs.setdefault('input_transform', 'multiple_select')
        kwargs.setdefault('in_index', list(range(len(in_channels))))
        kwargs.setdefault('dropout_ratio', 0.0)
        kwargs.setdefault('norm_cfg', dict(type='BN', requires_grad=True))
        super().__init__(in_channels=in_channels, channels=channels, **kwargs)
        self.ups = nn.ModuleList()
        self.blocks = nn.ModuleList()
        for i in range(len(in_channels) - 1, 0, -1):
            deep, skip = in_channels[i], in_channels[i - 1]
            self.ups.append(nn.ConvTranspose2d(deep, deep // 2, kernel_size=2, stride=2))
            self.blocks.append(
                PSABlock(deep // 2 + skip, skip, psa_kernels, psa_groups, psa_reduction))
        c1 = in_channels[0]
        self.final_up = nn.ConvTranspose2d(c1, c1, kernel_size=final_upsample,
                                           stride=final_upsample)
        self.aspp = AtrousPyramidPooling(c1, aspp_channels, aspp_dilations,
                                         norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.head = ConvModule(aspp_channels, channels, 3, padding=1, bias=True,
                               norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)

    def decode(self, feats: List[torch.Tensor]) -> torch.Tensor:
        """Features at full resolution (before ``conv_seg``)."""
        x = feats[-1]
        for up, block, skip in zip(self.ups, self.blocks, reversed(feats[:-1])):
            x = resize_to(up(x), skip)
            x = block(torch.cat([x, skip], dim=1))
        x = self.final_up(x)
        return self.head(self.aspp(x))

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        feats = self._transform_inputs(inputs)
        return self.cls_seg(self.decode(feats))
