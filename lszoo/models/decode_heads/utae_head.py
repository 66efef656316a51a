"""U-TAE decoder: transposed-convolution up blocks over the aggregated skips of
:class:`~lszoo.models.backbones.UTAEEncoder`, ending in U-TAE's 3x3 output block."""
from typing import Sequence

import torch
import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS

from lszoo.errors import ConfigError
from lszoo.models.layers.utae_blocks import ConvNormAct, UTAEUp


@MODELS.register_module()
class UTAEHead(BaseDecodeHead):
    """Decoder of U-TAE as an mmseg decode head.

    Args:
        in_channels: the encoder widths (one per scale, finest first).
        decoder_widths: decoder widths per scale; the last equals the last encoder width.
        str_conv_k / str_conv_s / str_conv_p: the transposed up-sampling convolution.
        out_block: ``'utae'`` (default): the classifier is U-TAE's output block, a 3x3 reflect
            convolution followed by BatchNorm (the reference's ``out_conv`` with one width, as
            the Sen12Landslides authors configure it); ``'conv1x1'``: mmseg's 1x1 ``conv_seg``.
        Other arguments: mmseg's ``BaseDecodeHead`` (``channels`` is set to
        ``decoder_widths[0]``).
    """

    def __init__(self, in_channels: Sequence[int], decoder_widths: Sequence[int] = (32, 32, 64,
                 128), str_conv_k: int = 4, str_conv_s: int = 2, str_conv_p: int = 1,
                 padding_mode: str = 'reflect', out_block: str = 'utae', **kwargs):
        in_channels, decoder_widths = list(in_channels), list(decoder_widths)
        if len(decoder_widths) != len(in_channels) or decoder_widths[-1] != in_channels[-1]:
            raise ConfigError(f'UTAEHead: decoder_widths {decoder_widths} must have one width '
                              f'per encoder stage {in_channels} and end with the same width')
        if out_block not in ('utae', 'conv1x1'):
            raise ConfigError(f"UTAEHead: out_block {out_block!r}; 'utae' or 'conv1x1'")
        kwargs.setdefault('in_index', list(range(len(in_channels))))
        kwargs.setdefault('input_transform', 'multiple_select')
        kwargs['channels'] = decoder_widths[0]
        super().__init__(in_channels=in_channels, **kwargs)
        n = len(in_channels)
        self.up_blocks = nn.ModuleList(
            UTAEUp(decoder_widths[i], decoder_widths[i - 1], in_channels[i - 1], str_conv_k,
                   str_conv_s, str_conv_p, 'batch', padding_mode)
            for i in range(n - 1, 0, -1))
        if out_block == 'utae':
            self.conv_seg = ConvNormAct([decoder_widths[0], self.out_channels], 'batch',
                                        last_relu=False, padding_mode=padding_mode)

    def forward(self, inputs) -> torch.Tensor:
        feats = self._transform_inputs(inputs)
        x = feats[-1]
        for block, skip in zip(self.up_blocks, reversed(feats[:-1])):
            x = block(x, skip)
        return self.cls_seg(x)
