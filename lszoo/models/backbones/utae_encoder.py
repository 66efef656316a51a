"""U-TAE encoder: a U-Net encoder shared over the dates, L-TAE at the bottom, attention-driven
temporal aggregation of the skips (Garnot & Landrieu, "Panoptic Segmentation of Satellite Image
Time Series with Convolutional Temporal Attention Networks", ICCV 2021)."""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from lszoo.errors import ConfigError
from lszoo.models.layers.ltae import LTAE2d, temporal_aggregate
from lszoo.models.layers.utae_blocks import ConvNormAct, UTAEDown, over_dates


@MODELS.register_module()
class UTAEEncoder(BaseModule):
    """Spatio-temporal encoder of U-TAE; returns one temporally collapsed map per scale.

    The image holds the series date-major (``T x C_date`` channels, as
    :class:`~lszoo.datasets.Sen12LandslidesDataset` with ``dates='all'`` stacks them) followed by
    ``static_channels`` per-location channels (e.g. the DEM) that are appended to every date,
    as the Sen12Landslides authors feed the DEM (``src/data/datasets.py``).

    Args:
        in_channels: channels per date *including* the static ones (the reference's
            ``input_dim``/``in_channels``).
        n_dates: dates in the series.
        static_channels: trailing channels shared by all dates.
        encoder_widths: widths of the stages (the last feeds L-TAE).
        str_conv_k / str_conv_s / str_conv_p: the strided down-sampling convolution.
        encoder_norm: ``'group'`` (4 groups), ``'batch'``, ``'instance'`` or ``'none'``.
        n_head / d_model / d_k: L-TAE heads, projection width and key width.
        agg_mode: skip aggregation ``'att_group'``, ``'att_mean'`` or ``'mean'``.
        positional_encoding: sinusoids of the date *index* in L-TAE (the mmseg data path gives
            the backbone no acquisition days). The Sen12Landslides authors ran U-TAE without
            positional encoding (commented out in their ``src/models/utae.py``): default False.
        pad_value: dates whose every input value equals it are padding (no attention);
            None (default, as the authors): no date is padding.
        padding_mode: spatial padding of the convolutions.
    """

    def __init__(self, in_channels: int, n_dates: int, static_channels: int = 0,
                 encoder_widths: Sequence[int] = (64, 64, 64, 128), str_conv_k: int = 4,
                 str_conv_s: int = 2, str_conv_p: int = 1, encoder_norm: str = 'group',
                 n_head: int = 16, d_model: int = 256, d_k: int = 4,
                 agg_mode: str = 'att_group', positional_encoding: bool = False,
                 pad_value: Optional[float] = None, padding_mode: str = 'reflect',
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if not 0 <= static_channels < in_channels or n_dates < 1:
            raise ConfigError(f'UTAEEncoder: static_channels ({static_channels}) must be below '
                              f'in_channels ({in_channels}) and n_dates ({n_dates}) >= 1')
        if agg_mode == 'att_group' and any(w % n_head for w in encoder_widths[:-1]):
            raise ConfigError(f'UTAEEncoder: att_group needs encoder widths divisible by '
                              f'n_head={n_head}, got {tuple(encoder_widths)}')
        self.in_channels, self.n_dates = in_channels, n_dates
        self.static_channels, self.agg_mode, self.pad_value = static_channels, agg_mode, pad_value
        self.widths = tuple(encoder_widths)
        self.in_conv = ConvNormAct([in_channels, self.widths[0], self.widths[0]], encoder_norm,
                                   padding_mode=padding_mode)
        self.down_blocks = nn.ModuleList(
            UTAEDown(a, b, str_conv_k, str_conv_s, str_conv_p, encoder_norm, padding_mode)
            for a, b in zip(self.widths[:-1], self.widths[1:]))
        self.temporal_encoder = LTAE2d(self.widths[-1], n_head=n_head, d_k=d_k,
                                       mlp=(d_model, self.widths[-1]), d_model=d_model,
                                       positional_encoding=positional_encoding)
        self.positional_encoding = positional_encoding

    @property
    def expected_channels(self) -> int:
        dyn = self.in_channels - self.static_channels
        return self.n_dates * dyn + self.static_channels

    def to_series(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T*C_dyn + S, H, W)`` -> ``(B, T, C_dyn + S, H, W)``."""
        if x.dim() == 5:
            return x
        if x.shape[1] != self.expected_channels:
            raise ConfigError(
                f'UTAEEncoder: input has {x.shape[1]} channels, expected n_dates x (in_channels '
                f'- static_channels) + static_channels = {self.n_dates} x '
                f'{self.in_channels - self.static_channels} + {self.static_channels} = '
                f'{self.expected_channels}')
        b, _, h, w = x.shape
        dyn = self.in_channels - self.static_channels
        series = x[:, :self.n_dates * dyn].reshape(b, self.n_dates, dyn, h, w)
        if self.static_channels:
            static = x[:, self.n_dates * dyn:, None].transpose(1, 2)
            series = torch.cat([series, static.expand(b, self.n_dates, -1, h, w)], dim=2)
        return series

    def forward(self, x: torch.Tensor, positions: Optional[torch.Tensor] = None
                ) -> List[torch.Tensor]:
        series = self.to_series(x)
        b, t = series.shape[:2]
        pad_mask = None
        if self.pad_value is not None:
            pad_mask = (series == self.pad_value).flatten(2).all(-1)
        if self.positional_encoding and positions is None:
            positions = torch.arange(t, device=x.device, dtype=torch.float32).expand(b, t)
        maps = [over_dates(self.in_conv, series)]
        for block in self.down_blocks:
            maps.append(over_dates(block, maps[-1]))
        bottom, attn = self.temporal_encoder(maps[-1], positions, pad_mask)
        skips = [temporal_aggregate(m, attn, self.agg_mode, pad_mask) for m in maps[:-1]]
        return skips + [bottom]
