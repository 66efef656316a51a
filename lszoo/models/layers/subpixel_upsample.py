"""Sub-pixel upsampling (PixelShuffle), used by DiGATe-UNet in place of transposed convolutions.

Shi et al., "Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel
Convolutional Neural Network", CVPR 2016; used as the decoder's upsampler by DiGATe-UNet.
A 1x1 convolution makes ``scale**2`` times the output channels, which
``PixelShuffle`` rearranges into a ``scale`` times larger map: no checkerboard artefacts and far
fewer weights than a 2x2 or 4x4 transposed convolution.
"""
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.registry import MODELS

from .conv_blocks import GN1


@MODELS.register_module()
class SubPixelUpsample(nn.Module):
    """``1x1 conv in->out*s^2 (no bias) -> norm -> act -> PixelShuffle(s)``.

    Args:
        in_channels: input channels.
        out_channels: output channels (after the shuffle).
        scale_factor: integer upsampling factor ``s`` (default 2).
        norm_cfg / act_cfg: mmcv configs for the norm and activation after the convolution
            (default one-group GroupNorm and ReLU, as in DiGATe-UNet); ``None`` disables either.

    Shape: ``(N, in, H, W) -> (N, out, s*H, s*W)``.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 scale_factor: int = 2,
                 norm_cfg: dict = GN1,
                 act_cfg: dict = dict(type='ReLU')):
        super().__init__()
        if int(scale_factor) != scale_factor or scale_factor < 1:
            raise ValueError(f'SubPixelUpsample: scale_factor must be a positive integer, '
                             f'got {scale_factor!r}')
        scale_factor = int(scale_factor)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.scale_factor = scale_factor
        self.conv = ConvModule(in_channels, out_channels * scale_factor ** 2, 1, bias=False,
                               norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.shuffle = nn.PixelShuffle(scale_factor)

    def forward(self, x):
        return self.shuffle(self.conv(x))
