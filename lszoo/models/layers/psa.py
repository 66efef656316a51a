"""Pyramid squeeze attention (PSA) module and the PSA bottleneck block used by GeoNeXt.

PSA module: Zhang et al., "EPSANet: An Efficient Pyramid Squeeze Attention Block on Convolutional
Neural Network", ACCV 2022 (arXiv:2105.14447). PSA block as GeoNeXt's decoder uses it:
"GeoNeXt: ... ConvNeXt V2 encoder with a decoder that utilizes Pyramid Squeeze Attention and
Atrous Spatial Pyramid Pooling" (github ruribev/GeoNeXt).
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmseg.registry import MODELS

from lszoo.errors import ConfigError


def branch_groups(groups: int, in_channels: int, out_channels: int) -> int:
    """GeoNeXt's group rule: ``g = min(groups, out_channels)``, kept if it divides the branch
    width (and the input width), else 1. Tiny's branch widths 96, 48, 24 give (1, 4, 8, 16),
    (1, 4, 8, 16), (1, 4, 8, 1); atto's shallowest (10) gives (1, 1, 1, 10)."""
    g = min(groups, out_channels)
    if g >= 1 and in_channels % g == 0 and out_channels % g == 0:
        return g
    return 1


class _SqueezeExcite(nn.Module):
    """SE weights (N, C, 1, 1): avg pool, 1x1 conv C -> C/r, ReLU, 1x1 conv C/r -> C, sigmoid."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        # GeoNeXt's reference computes channels // reduction and fails when that is 0 (branch
        # widths below 16, e.g. atto's 10); lszoo keeps one hidden channel there instead.
        hidden = max(channels // reduction, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.fc2(self.relu(self.fc1(self.pool(x)))))


@MODELS.register_module()
class PSAModule(nn.Module):
    """EPSANet pyramid squeeze attention: multi-scale grouped convs re-weighted per channel.

    Each of ``len(kernels)`` branches convolves the whole input (kernel k_i, groups g_i) into
    ``channels / len(kernels)`` maps. One SE module, shared by all branches, gives each branch a
    per-channel weight; a softmax across the branches (per channel) normalises them, and the
    output is the concatenation of the re-weighted branches. Groups follow GeoNeXt's rule
    (:func:`branch_groups`), so any width divisible by the branch count works.

    Args:
        in_channels: input channels.
        channels: output channels; defaults to ``in_channels``. Must be divisible by the number
            of branches.
        kernels: kernel size of each branch (paper: 3, 5, 7, 9).
        groups: group count of each branch (paper: 1, 4, 8, 16).
        reduction: SE reduction ratio (paper: 16).
        branch_bias: per branch, whether its conv has a bias. GeoNeXt's reference gives
            branches 2-4 (kernels 5, 7, 9) a bias and branch 1 none; ``None`` (default) means
            exactly that: every branch but the first has a bias.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int = None,
                 kernels: Sequence[int] = (3, 5, 7, 9),
                 groups: Sequence[int] = (1, 4, 8, 16),
                 reduction: int = 16,
                 branch_bias: Optional[Sequence[bool]] = None):
        super().__init__()
        channels = in_channels if channels is None else channels
        if branch_bias is None:
            branch_bias = [False] + [True] * (len(kernels) - 1)
        if len(kernels) != len(groups) or len(kernels) != len(branch_bias) or not kernels:
            raise ConfigError(f'PSAModule: kernels {tuple(kernels)}, groups {tuple(groups)} and '
                              f'branch_bias {tuple(branch_bias)} must be non-empty and of the '
                              'same length')
        if channels % len(kernels) != 0:
            raise ConfigError(f'PSAModule: channels={channels} is not divisible by the number '
                              f'of branches ({len(kernels)})')
        self.num_branches = len(kernels)
        self.split_channels = channels // self.num_branches
        self.groups = tuple(branch_groups(g, in_channels, self.split_channels) for g in groups)
        self.convs = nn.ModuleList(
            nn.Conv2d(in_channels, self.split_channels, k, padding=k // 2, groups=g,
                      bias=bool(b))
            for k, g, b in zip(kernels, self.groups, branch_bias))
        self.se = _SqueezeExcite(self.split_channels, reduction)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = torch.stack([conv(x) for conv in self.convs], dim=1)  # N, B, C/B, H, W
        weights = torch.stack([self.se(feats[:, i]) for i in range(self.num_branches)], dim=1)
        weights = weights.softmax(dim=1)  # across branches, per channel
        out = feats * weights
        return out.flatten(1, 2)  # concatenation of the branches


@MODELS.register_module()
class PSABlock(nn.Module):
    """Residual bottleneck around a PSA module (GeoNeXt decoder block).

    1x1 conv in->out, BN, ReLU; PSA module(out); BN, ReLU; 1x1 conv out->out, BN; shortcut
    (identity, or 1x1 conv + BN when ``in_channels != out_channels``); ReLU of the sum.
    The 1x1 convs are bias-free (each feeds a BatchNorm); the PSA branches follow
    ``branch_bias``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernels=(3, 5, 7, 9),
                 groups=(1, 4, 8, 16), reduction: int = 16,
                 branch_bias=None):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.psa = PSAModule(out_channels, out_channels, kernels, groups, reduction, branch_bias)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv3 = nn.Conv2d(out_channels, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        if in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.psa(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + self.shortcut(x))
