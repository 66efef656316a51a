"""UNetDecoderHead: shapes, stage widths, gradients, config errors, and inside a timm U-Net."""
import pytest
import torch

import lszoo  # noqa: F401  (registers UNetDecoderHead)
from lszoo.errors import ConfigError
from lszoo.models.decode_heads.unet_decoder_head import UNetDecoderHead


def _head(**kw):
    args = dict(in_channels=[4, 8, 16], in_index=[0, 1, 2], decoder_channels=(12, 6),
                num_classes=2, out_channels=1, threshold=0.5,
                norm_cfg=dict(type='BN', requires_grad=True),
                loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=True))
    args.update(kw)
    return UNetDecoderHead(**args)


def _pyramid(n=2, size=32):
    # strides 2, 4, 8 of a size x size image
    return [torch.randn(n, 4, size // 2, size // 2), torch.randn(n, 8, size // 4, size // 4),
            torch.randn(n, 16, size // 8, size // 8)]


def test_output_at_shallowest_level_and_stage_widths():
    head = _head()
    out = head(_pyramid())
    assert out.shape == (2, 1, 16, 16)
    # stage 1: upsampled 16 ch + skip 8 ch -> 12; stage 2: 12 + 4 -> 6; classifier 6 -> 1
    assert head.stages[0].convs[0].conv.in_channels == 24
    assert head.stages[0].convs[0].conv.out_channels == 12
    assert head.stages[1].convs[0].conv.in_channels == 16
    assert head.channels == 6 and head.conv_seg.in_channels == 6


def test_extra_stage_doubles_resolution_without_skip():
    head = _head(decoder_channels=(12, 6, 3))
    out = head(_pyramid(size=32))
    assert out.shape == (2, 1, 32, 32)
    assert head.stages[2].convs[0].conv.in_channels == 6  # no skip concatenated


def test_odd_sizes_follow_the_skip():
    head = _head()
    feats = [torch.randn(1, 4, 17, 13), torch.randn(1, 8, 9, 7), torch.randn(1, 16, 5, 4)]
    assert head(feats).shape == (1, 1, 17, 13)


def test_gradients_reach_every_level():
    head = _head()
    feats = [f.requires_grad_() for f in _pyramid()]
    head(feats).sum().backward()
    for f in feats:
        assert f.grad is not None and f.grad.abs().sum() > 0


@pytest.mark.parametrize('kw, msg', [
    (dict(decoder_channels=(12,)), 'at least 2 entries'),
    (dict(in_index=[0, 1]), 'one entry per'),
    (dict(in_channels=[4], in_index=[0]), 'at least two'),
    (dict(channels=8), 'decoder_channels, not channels'),
    (dict(input_transform='resize_concat'), 'multiple_select'),
])
def test_bad_config_is_named(kw, msg):
    with pytest.raises(ConfigError, match=msg):
        _head(**kw)


def test_timm_unet_base_builds_with_n_bands():
    from mmengine.config import Config
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile('configs/_base_/models/timm_unet_convnextv2_atto.py')
    cfg.model.backbone.in_channels = 5
    model = MODELS.build(cfg.model)
    out = model(torch.randn(1, 5, 64, 64), mode='tensor')
    # ConvNeXt V2 maps start at stride 4; two extra x2 stages give full resolution
    assert out.shape == (1, 1, 64, 64)
