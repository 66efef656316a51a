"""A U-Net decoder over any multi-level encoder (e.g. a timm ``features_only`` model).

mmsegmentation's ``UNet`` is a whole backbone with its own encoder; it has no head that runs a
U-Net style decoder over the feature pyramid of another encoder. This head fills that gap so that
``TIMMBackbone`` (mmseg's wrapper around any timm ``features_only`` network) plus this head gives
the "timm-encoder U-Net" baseline (Ronneberger et al., "U-Net: Convolutional Networks for
Biomedical Image Segmentation", MICCAI 2015; encoder swapped for a modern ImageNet-style
network as in most landslide baselines).
"""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS

from lszoo.errors import ConfigError
from lszoo.models.segmentors.auto_width_encoder_decoder import check_widths_resolved


UPSAMPLE_MODES = ('bilinear', 'nearest')
DECODER_INITS = ('kaiming_normal_fan_out', 'kaiming_uniform_fan_in')
CLS_INITS = ('normal', 'xavier_uniform')


class _DecoderStage(nn.Module):
    """Upsample ``x`` (to the skip size or x2), concatenate the skip, two 3x3 convs."""

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int, conv_cfg,
                 norm_cfg, act_cfg, align_corners: bool, upsample_mode: str = 'bilinear'):
        super().__init__()
        self.align_corners = align_corners
        self.upsample_mode = upsample_mode
        self.convs = nn.Sequential(
            ConvModule(in_channels + skip_channels, out_channels, 3, padding=1,
                       conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg),
            ConvModule(out_channels, out_channels, 3, padding=1,
                       conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg))

    def forward(self, x: torch.Tensor, skip: torch.Tensor = None) -> torch.Tensor:
        if skip is None:
            size = (x.shape[2] * 2, x.shape[3] * 2)
        else:
            size = skip.shape[2:]
        if self.upsample_mode == 'nearest':
            x = resize(x, size=size, mode='nearest')
        else:
            x = resize(x, size=size, mode='bilinear', align_corners=self.align_corners)
        if skip is not None:
            x = torch.cat([x, skip], dim=1)
        return self.convs(x)


@MODELS.register_module()
class UNetDecoderHead(BaseDecodeHead):
    """U-Net decoder head over a feature pyramid (shallow to deep).

    The defaults keep mmseg's classifier (1x1, N(0, 0.01)) so that older checkpoints load; the
    timm U-Net base config (``configs/_base_/models/timm_unet.py``) picks the 3x3 classifier with
    Xavier init, which closed the gap to smp's U-Net on the real Bijie benchmark
    (benchmarks/results/real.md: ResNet-18, 150 iterations, landslide IoU over seeds 42 / 7 / 1
    from 16.38 / 15.87 / 20.51 to 25.07 / 19.83 / 21.53, smp 24.59 / 11.73 / 10.88; nearest
    upsampling alone 13.52, smp's decoder init with nearest and the 3x3 head 20.42, seed 42).

    Starting from the deepest map, each stage upsamples bilinearly to the next shallower map,
    concatenates it (skip connection) and applies two 3x3 conv-norm-act blocks. Stages beyond the
    skips (``len(decoder_channels) > len(in_channels) - 1``) upsample by 2 without a skip, e.g. to
    bring an encoder whose shallowest map is at stride 2 back to full resolution.

    Args:
        in_channels: channels of the selected encoder maps, shallow to deep, or ``'auto'``:
            filled from the encoder by ``AutoWidthEncoderDecoder``.
        in_index: which backbone outputs to use (same length as ``in_channels``; default all).
        decoder_channels: output width of each stage, deep to shallow; the last entry is the
            width fed to the classifier (``channels`` of ``BaseDecodeHead``, set from it).
        upsample_mode: ``'bilinear'`` (default) or ``'nearest'`` (segmentation_models_pytorch's
            U-Net).
        cls_kernel_size: 1 (mmseg's ``conv_seg``, default) or 3 (smp's segmentation head).
        decoder_init: ``'kaiming_normal_fan_out'`` (what mmcv's ``ConvModule`` does, default)
            or ``'kaiming_uniform_fan_in'`` (PyTorch's and smp's decoder init).
        cls_init: ``'normal'`` (mmseg's N(0, 0.01), default) or ``'xavier_uniform'`` (smp's).
        **kwargs: the usual ``BaseDecodeHead`` arguments (``num_classes``, ``out_channels``,
            ``threshold``, ``norm_cfg``, ``loss_decode``, ...).
    """

    def __init__(self, in_channels: Sequence[int], in_index: Optional[Sequence[int]] = None,
                 decoder_channels: Sequence[int] = (256, 128, 64, 32),
                 upsample_mode: str = 'bilinear', cls_kernel_size: int = 1,
                 decoder_init: str = 'kaiming_normal_fan_out', cls_init: str = 'normal',
                 **kwargs):
        check_widths_resolved('UNetDecoderHead', in_channels)
        for name, value, choices in (('upsample_mode', upsample_mode, UPSAMPLE_MODES),
                                     ('decoder_init', decoder_init, DECODER_INITS),
                                     ('cls_init', cls_init, CLS_INITS),
                                     ('cls_kernel_size', cls_kernel_size, (1, 3))):
            if value not in choices:
                raise ConfigError(f'UNetDecoderHead: {name} must be one of {choices}, '
                                  f'got {value!r}')
        if in_index is None and isinstance(in_channels, (list, tuple)):
            in_index = list(range(len(in_channels)))
        if 'input_transform' in kwargs and kwargs['input_transform'] != 'multiple_select':
            raise ConfigError('UNetDecoderHead: input_transform must be "multiple_select" '
                              f'(got {kwargs["input_transform"]!r})')
        kwargs.pop('input_transform', None)
        if 'channels' in kwargs:
            raise ConfigError('UNetDecoderHead: set decoder_channels, not channels (the last '
                              'decoder width is the classifier input)')
        if not isinstance(in_channels, (list, tuple)) or len(in_channels) < 2:
            raise ConfigError('UNetDecoderHead: in_channels must list at least two encoder '
                              f'levels, got {in_channels!r}')
        if not isinstance(in_index, (list, tuple)) or len(in_index) != len(in_channels):
            raise ConfigError(f'UNetDecoderHead: in_index {in_index!r} must have one entry per '
                              f'in_channels entry {list(in_channels)!r}')
        num_skips = len(in_channels) - 1
        if len(decoder_channels) < num_skips:
            raise ConfigError(f'UNetDecoderHead: decoder_channels {list(decoder_channels)!r} '
                              f'needs at least {num_skips} entries (one per skip connection)')
        super().__init__(in_channels, decoder_channels[-1], in_index=list(in_index),
                         input_transform='multiple_select', **kwargs)
        self.decoder_channels = tuple(decoder_channels)
        self.decoder_init, self.cls_init = decoder_init, cls_init
        if cls_kernel_size == 3:
            self.conv_seg = nn.Conv2d(self.channels, self.out_channels, 3, padding=1)
        skips = list(in_channels[:-1])[::-1]  # deep to shallow
        stages: List[nn.Module] = []
        prev = in_channels[-1]
        for i, width in enumerate(self.decoder_channels):
            skip_ch = skips[i] if i < num_skips else 0
            stages.append(_DecoderStage(prev, skip_ch, width, self.conv_cfg, self.norm_cfg,
                                        self.act_cfg, self.align_corners, upsample_mode))
            prev = width
        self.stages = nn.ModuleList(stages)

    def init_weights(self):
        """mmseg's init (``init_cfg``: classifier N(0, 0.01); decoder convs as ConvModule
        builds them, Kaiming normal, fan-out), then the ``decoder_init`` / ``cls_init`` choice."""
        super().init_weights()
        if self.decoder_init == 'kaiming_uniform_fan_in':
            for m in self.stages.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_uniform_(m.weight, mode='fan_in', nonlinearity='relu')
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
        if self.cls_init == 'xavier_uniform':
            nn.init.xavier_uniform_(self.conv_seg.weight)
            nn.init.zeros_(self.conv_seg.bias)

    def forward(self, inputs):
        feats = self._transform_inputs(inputs)
        x = feats[-1]
        skips = feats[:-1][::-1]
        for i, stage in enumerate(self.stages):
            x = stage(x, skips[i] if i < len(skips) else None)
        return self.cls_seg(x)
