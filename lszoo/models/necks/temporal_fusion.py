"""Temporal fusion neck: one change map per level from the two dates' features.

The fusion choices are those of the change-detection literature (FC-Siam-diff and FC-Siam-conc,
Daudt et al., ICIP 2018; Open-CD's feature fusion neck): the difference keeps only what changed
(and its sign: vegetation to bare soil brightens), the absolute difference is symmetric in the
dates, the concatenation lets the decoder learn its own comparison, ``both`` gives it the dates
and their difference.
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from lszoo.errors import ConfigError
from lszoo.models.layers.utils import check_channels
from lszoo.models.segmentors.auto_width_encoder_decoder import check_widths_resolved

#: mode -> how many per-date widths the fused map has
FUSION_MODES = {'diff': 1, 'abs_diff': 1, 'concat': 2, 'both': 3}
SECOND_STREAMS = (None, 'dem', 'post', 'pre')


def fuse_dates(pre: torch.Tensor, post: torch.Tensor, mode: str) -> torch.Tensor:
    """One level's fused map: ``post - pre``, ``|post - pre|``, ``[pre, post]`` or
    ``[pre, post, post - pre]`` (channels)."""
    if mode == 'diff':
        return post - pre
    if mode == 'abs_diff':
        return (post - pre).abs()
    if mode == 'concat':
        return torch.cat([pre, post], 1)
    return torch.cat([pre, post, post - pre], 1)


@MODELS.register_module()
class TemporalFusionNeck(BaseModule):
    """Fuse the pre- and post-event maps of a :class:`SiameseEncoder` level by level.

    Args:
        in_channels: per-date widths of the encoder levels, or ``'auto'`` (filled by
            ``AutoWidthEncoderDecoder``).
        mode: ``'diff'``, ``'abs_diff'``, ``'concat'`` or ``'both'`` (see :func:`fuse_dates`).
        project: a 1x1 conv-BN-ReLU per level brings the fused map back to the encoder's width,
            so a head built for one image's features (PSA-ASPP, DiGATe) reads it unchanged.
        second_stream: ``None``: return the fused maps; ``'dem'``, ``'post'`` or ``'pre'``:
            return the pair ``(fused, second)`` for a two-stream head (DiGATe-UNet keeps its
            topography stream as ``'dem'``; without a DEM, ``'post'``).
        norm_cfg: norm of the projections.

    ``out_channels``: widths of the fused maps.
    """

    def __init__(self, in_channels: Sequence[int], mode: str = 'abs_diff',
                 project: bool = False, second_stream: Optional[str] = None,
                 norm_cfg: dict = dict(type='BN', requires_grad=True), init_cfg=None):
        super().__init__(init_cfg)
        check_widths_resolved('TemporalFusionNeck', in_channels)
        if mode not in FUSION_MODES:
            raise ConfigError(f'TemporalFusionNeck: mode must be one of {tuple(FUSION_MODES)}, '
                              f'got {mode!r}')
        if second_stream not in SECOND_STREAMS:
            raise ConfigError(f'TemporalFusionNeck: second_stream must be one of '
                              f'{SECOND_STREAMS}, got {second_stream!r}')
        self.in_channels = [int(c) for c in in_channels]
        self.mode, self.second_stream = mode, second_stream
        k = FUSION_MODES[mode]
        self.projections = None
        if project:
            self.projections = nn.ModuleList(
                ConvModule(k * c, c, 1, norm_cfg=norm_cfg) for c in self.in_channels)
            self.out_channels = list(self.in_channels)
        else:
            self.out_channels = [k * c for c in self.in_channels]

    def forward(self, inputs):
        pre, post, dem = inputs.pre, inputs.post, inputs.dem
        check_channels('TemporalFusionNeck', self.in_channels, pre)
        fused = [fuse_dates(a, b, self.mode) for a, b in zip(pre, post)]
        if self.projections is not None:
            fused = [proj(f) for proj, f in zip(self.projections, fused)]
        fused = tuple(fused)
        if self.second_stream is None:
            if dem is not None:
                raise ConfigError("TemporalFusionNeck: the encoder has a separate DEM stream; "
                                  "set second_stream='dem' (and a two-stream head)")
            return fused
        second = {'dem': dem, 'post': post, 'pre': pre}[self.second_stream]
        if second is None:
            raise ConfigError("TemporalFusionNeck: second_stream='dem' but the encoder has no "
                              'dem_encoder')
        return fused, tuple(second)
