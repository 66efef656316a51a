"""ChannelGroupNorm: GroupNorm from the channel count, usable as a timm encoder's norm_layer."""
import pytest
import torch
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmseg.registry import MODELS

from lszoo.errors import ConfigError
from lszoo.models.layers import ChannelGroupNorm


def test_groups_follow_the_channels():
    assert ChannelGroupNorm(64).num_groups == 32
    assert ChannelGroupNorm(16).num_groups == 16  # fewer channels than groups: one per channel
    assert ChannelGroupNorm(48, num_groups=8).num_groups == 8
    with pytest.raises(ConfigError, match='num_groups=32 does not divide 40 channels'):
        ChannelGroupNorm(40)


def test_normalises_each_sample_alone():
    norm = ChannelGroupNorm(8, num_groups=2)
    x = torch.randn(3, 8, 5, 5)
    one = norm(x[:1])
    assert torch.allclose(norm(x)[:1], one, atol=1e-6)  # the batch plays no part
    grouped = one.reshape(2, -1)
    assert torch.allclose(grouped.mean(1), torch.zeros(2), atol=1e-5)


def test_timm_backbone_takes_it_by_name():
    # the name resolves where mmseg's TIMMBackbone looks it up (mmengine's root registry)
    assert MMENGINE_MODELS.get('ChannelGroupNorm') is ChannelGroupNorm
    backbone = MODELS.build(dict(type='TIMMBackbone', model_name='resnet18', features_only=True,
                                 pretrained=False, norm_layer='ChannelGroupNorm'))
    kinds = {type(m).__name__ for m in backbone.modules()}
    assert 'ChannelGroupNorm' in kinds and not any('BatchNorm' in k for k in kinds)
    feats = backbone(torch.rand(2, 3, 64, 64))
    assert [f.shape[1] for f in feats] == [64, 64, 128, 256, 512]
