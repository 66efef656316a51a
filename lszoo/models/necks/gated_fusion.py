"""Early gated fusion neck of DiGATe-UNet (reference code:
github.com/mishaown/DiGATe-UNet-LandSlide-Segmentation).

Takes the two streams' encoder features from :class:`DualStreamTimmEncoder` and replaces stream A's
maps at levels 3 and 4 (strides 8 and 16; 0-based indices 2 and 3) by ``GatedFusion(a, b)``.
Stream B passes through unchanged (the paper's second decoder reads the raw B features). The gate
regularisers ``mean(alpha (1 - alpha))`` travel with the features to :class:`DiGATeHead`, which
adds them (with its own two late-fusion regularisers) to the loss dict as ``loss_gate_reg``.
"""
from collections import namedtuple
from typing import Sequence

import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from lszoo.errors import ConfigError
from lszoo.models.layers.gated_fusion import GatedFusion
from lszoo.models.layers.utils import check_channels
from lszoo.models.segmentors.auto_width_encoder_decoder import check_widths_resolved

#: What the neck returns: stream A maps (fused at ``fuse_levels``), stream B maps, and the list
#: of gate regularisers (scalar tensors) computed so far.
FusedFeatures = namedtuple('FusedFeatures', ['stream_a', 'stream_b', 'gate_regs'])


@MODELS.register_module()
class GatedFusionNeck(BaseModule):
    """Gated fusion of stream B into stream A at chosen encoder levels.

    Args:
        in_channels: widths of the encoder levels (e.g. ``(24, 32, 56, 160, 448)`` for B4), or
            ``'auto'``: filled from the encoder by ``AutoWidthEncoderDecoder``.
        fuse_levels: 0-based level indices to fuse (default ``(2, 3)``: strides 8 and 16).

    Input: ``(feats_a, feats_b)``. Output: :data:`FusedFeatures`.
    """

    def __init__(self, in_channels: Sequence[int], fuse_levels: Sequence[int] = (2, 3),
                 init_cfg=None):
        super().__init__(init_cfg)
        check_widths_resolved('GatedFusionNeck', in_channels)
        self.in_channels = list(in_channels)
        #: output widths (the same levels: stream A's fused maps keep their widths)
        self.out_channels = list(self.in_channels)
        self.fuse_levels = sorted(int(i) for i in fuse_levels)
        if any(i < 0 or i >= len(self.in_channels) for i in self.fuse_levels):
            raise ConfigError(f'GatedFusionNeck: fuse_levels={list(fuse_levels)} outside the '
                              f'{len(self.in_channels)} levels of in_channels')
        self.gates = nn.ModuleDict(
            {str(i): GatedFusion(self.in_channels[i]) for i in self.fuse_levels})

    def forward(self, inputs):
        feats_a, feats_b = inputs[0], inputs[1]
        check_channels('GatedFusionNeck', self.in_channels, feats_a)
        fused = list(feats_a)
        regs = list(inputs[2]) if len(inputs) > 2 else []
        for i in self.fuse_levels:
            fused[i], reg = self.gates[str(i)](feats_a[i], feats_b[i])
            regs.append(reg)
        return FusedFeatures(tuple(fused), tuple(feats_b), regs)
