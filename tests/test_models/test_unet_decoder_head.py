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
    # the base's classifier: 3x3, Xavier (chosen on the real benchmark, benchmarks/results/real.md)
    head = model.decode_head
    assert head.conv_seg.kernel_size == (3, 3) and head.cls_init == 'xavier_uniform'
    assert head.stages[0].upsample_mode == 'bilinear'


def test_nearest_upsampling_repeats_the_deep_map():
    """upsample_mode='nearest' (as smp's U-Net) copies each deep pixel into a 2x2 block."""
    head = _head(upsample_mode='nearest')
    seen = []
    head.stages[0].convs.register_forward_hook(lambda m, inp, out: seen.append(inp[0]))
    feats = _pyramid(n=1)
    head(feats)
    up = seen[0][:, :16]  # the upsampled deep map, before the concatenated skip
    assert torch.equal(up, feats[2].repeat_interleave(2, -1).repeat_interleave(2, -2))
    bilinear = _head()
    bilinear.load_state_dict(head.state_dict())
    assert not torch.allclose(bilinear(feats), head(feats))


def test_classifier_kernel_and_inits():
    """cls_kernel_size=3 / cls_init='xavier_uniform' / decoder_init='kaiming_uniform_fan_in'
    give the documented layer and weight distributions; the defaults keep mmseg's."""
    torch.manual_seed(0)
    head = _head(decoder_channels=(64, 64), cls_kernel_size=3, cls_init='xavier_uniform',
                 decoder_init='kaiming_uniform_fan_in')
    head.init_weights()
    w = head.conv_seg.weight
    assert w.shape == (1, 64, 3, 3) and head(_pyramid()).shape == (2, 1, 16, 16)
    bound = (6 / (64 * 9 + 1 * 9)) ** 0.5  # xavier uniform: sqrt(6 / (fan_in + fan_out))
    assert w.abs().max() <= bound and w.abs().max() > 0.9 * bound
    conv = head.stages[1].convs[1].conv.weight  # 64 -> 64, 3x3: fan_in 576
    fan_in_bound = (2 ** 0.5) * (3 / 576) ** 0.5  # kaiming uniform, ReLU gain
    assert conv.abs().max() <= fan_in_bound and conv.abs().max() > 0.9 * fan_in_bound
    default = _head(decoder_channels=(64, 64))
    default.init_weights()
    assert default.conv_seg.kernel_size == (1, 1)
    assert abs(default.conv_seg.weight.std().item() - 0.01) < 0.005  # mmseg's N(0, 0.01)
    # ConvModule's Kaiming normal with fan-out: std sqrt(2 / 576), unbounded tails
    assert abs(default.stages[1].convs[1].conv.weight.std().item() - (2 / 576) ** 0.5) < 0.005


@pytest.mark.parametrize('kw', [dict(upsample_mode='bicubic'), dict(cls_kernel_size=5),
                                dict(decoder_init='orthogonal'), dict(cls_init='zeros')])
def test_bad_choice_is_named(kw):
    with pytest.raises(ConfigError, match=next(iter(kw))):
        _head(**kw)
