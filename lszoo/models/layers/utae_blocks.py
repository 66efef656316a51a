"""Convolution blocks of U-TAE (Garnot & Landrieu, ICCV 2021), shared over the dates.

The encoder's blocks run on every date with the same weights (dates folded into the batch);
the decoder's up block fuses a temporally aggregated skip. Widths, strided convolutions and
norms follow the paper's U-TAE (reflect padding, GroupNorm(4) in the encoder, BatchNorm in the
decoder).
"""
from typing import Sequence

import torch
import torch.nn as nn

NORMS = ('group', 'batch', 'instance', 'none')


def _norm(kind: str, channels: int, groups: int = 4) -> nn.Module:
    if kind == 'group':
        return nn.GroupNorm(groups, channels)
    if kind == 'batch':
        return nn.BatchNorm2d(channels)
    if kind == 'instance':
        return nn.InstanceNorm2d(channels)
    if kind == 'none':
        return nn.Identity()
    raise ValueError(f'U-TAE norm {kind!r}; choose from {NORMS}')


class ConvNormAct(nn.Sequential):
    """A chain of ``conv -> norm -> ReLU`` over ``widths`` (the last ReLU optional)."""

    def __init__(self, widths: Sequence[int], norm: str = 'batch', kernel: int = 3,
                 stride: int = 1, padding: int = 1, last_relu: bool = True,
                 padding_mode: str = 'reflect'):
        layers = []
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(nn.Conv2d(a, b, kernel, stride, padding, padding_mode=padding_mode))
            if norm != 'none':
                layers.append(_norm(norm, b))
            if last_relu or i < len(widths) - 2:
                layers.append(nn.ReLU())
        super().__init__(*layers)


def over_dates(block: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Apply a 2-D ``block`` to every date of ``(B, T, C, H, W)`` with shared weights."""
    b, t = x.shape[:2]
    out = block(x.flatten(0, 1))
    return out.view(b, t, *out.shape[1:])


class UTAEDown(nn.Module):
    """Strided convolution (halves the size) then a residual pair of 3x3 convolutions."""

    def __init__(self, d_in: int, d_out: int, kernel: int, stride: int, padding: int,
                 norm: str, padding_mode: str = 'reflect'):
        super().__init__()
        self.down = ConvNormAct([d_in, d_in], norm, kernel, stride, padding,
                                padding_mode=padding_mode)
        self.conv1 = ConvNormAct([d_in, d_out], norm, padding_mode=padding_mode)
        self.conv2 = ConvNormAct([d_out, d_out], norm, padding_mode=padding_mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(self.down(x))
        return x + self.conv2(x)


class UTAEUp(nn.Module):
    """Transposed convolution up, 1x1-projected skip concatenated, residual 3x3 pair."""

    def __init__(self, d_in: int, d_out: int, d_skip: int, kernel: int, stride: int,
                 padding: int, norm: str = 'batch', padding_mode: str = 'reflect'):
        super().__init__()
        self.skip_conv = nn.Sequential(nn.Conv2d(d_skip, d_skip, 1), nn.BatchNorm2d(d_skip),
                                       nn.ReLU())
        self.up = nn.Sequential(nn.ConvTranspose2d(d_in, d_out, kernel, stride, padding),
                                nn.BatchNorm2d(d_out), nn.ReLU())
        self.conv1 = ConvNormAct([d_out + d_skip, d_out], norm, padding_mode=padding_mode)
        self.conv2 = ConvNormAct([d_out, d_out], norm, padding_mode=padding_mode)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = self.conv1(torch.cat([self.up(x), self.skip_conv(skip)], dim=1))
        return x + self.conv2(x)
