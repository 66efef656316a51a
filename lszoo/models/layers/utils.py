"""Small tensor helpers shared by lszoo's layers, necks and heads."""
import torch
import torch.nn.functional as F

from lszoo.errors import ConfigError


def resize_to(x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Bilinear resize of ``x`` to ``ref``'s height and width when they differ."""
    if x.shape[-2:] == ref.shape[-2:]:
        return x
    return F.interpolate(x, size=ref.shape[-2:], mode='bilinear', align_corners=False)


def pad_to(x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Zero-pad ``x`` (centred) to the height and width of ``ref``; no copy when they match."""
    dy = ref.shape[-2] - x.shape[-2]
    dx = ref.shape[-1] - x.shape[-1]
    if dy == 0 and dx == 0:
        return x
    if dy < 0 or dx < 0:
        raise ValueError(f'upsampled map {tuple(x.shape[-2:])} is larger than the skip map '
                         f'{tuple(ref.shape[-2:])}: input size must be divisible by the '
                         f'encoder stride')
    return F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])


def check_channels(owner: str, expected, feats) -> None:
    """Raise a ConfigError when the feature widths differ from a module's ``in_channels``."""
    got = [f.shape[1] for f in feats]
    if len(got) != len(expected) or any(g != e for g, e in zip(got, expected)):
        raise ConfigError(f'{owner}: in_channels={list(expected)} but the backbone gives maps '
                          f'of widths {got}; set in_channels to the encoder\'s level widths')
