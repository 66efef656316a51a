"""GroupNorm built from the channel count alone, for encoders that take a ``norm_layer``.

timm encoders build their normalisation as ``norm_layer(num_channels)``, and mmseg's
``TIMMBackbone`` resolves a ``norm_layer`` name through mmengine's root ``MODELS`` registry.
``nn.GroupNorm`` takes the group count first, so no registered name gave a timm encoder
GroupNorm; worse, an unknown name (``'groupnorm'``) resolves to ``None`` and timm silently
keeps BatchNorm. ``norm_layer='ChannelGroupNorm'`` normalises each sample over groups of
channels: no batch statistics, so it behaves the same at batch 2 as at batch 64 (Wu & He,
ECCV 2018).
"""
import torch.nn as nn
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmseg.registry import MODELS

from lszoo.errors import ConfigError


@MODELS.register_module()
class ChannelGroupNorm(nn.GroupNorm):
    """``nn.GroupNorm(num_groups, num_channels)`` with the channel count first.

    Args:
        num_channels: channels of the input.
        num_groups: groups (32, as Wu & He); layers with fewer channels get one group per
            channel. Must divide ``num_channels``.
    """

    def __init__(self, num_channels: int, num_groups: int = 32, eps: float = 1e-5,
                 affine: bool = True, **factory_kwargs):
        groups = min(num_groups, num_channels)
        if num_groups < 1 or num_channels % groups:
            raise ConfigError(f'ChannelGroupNorm: num_groups={num_groups} does not divide '
                              f'{num_channels} channels')
        # factory_kwargs: device / dtype, which recent timm passes to every layer it builds
        super().__init__(groups, num_channels, eps=eps, affine=affine, **factory_kwargs)


# mmseg's TIMMBackbone looks norm_layer up in mmengine's root registry, not in mmseg's
MMENGINE_MODELS.register_module(module=ChannelGroupNorm)
