"""``AutoWidthEncoderDecoder``: heads and necks take their input widths from the encoder."""
import os.path as osp

import pytest
import torch
from helpers import REPO
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from lszoo.errors import ConfigError

MODELS_DIR = osp.join(REPO, 'configs', '_base_', 'models')

init_default_scope('mmseg')


def base_model(name):
    return Config.fromfile(osp.join(MODELS_DIR, f'{name}.py')).model


@pytest.mark.parametrize('encoder, widths', [
    ('resnet18', [64, 64, 128, 256, 512]),
    ('efficientnet_b0', [16, 24, 40, 112, 320]),
    ('convnextv2_atto', [40, 80, 160, 320]),
])
def test_timm_unet_follows_the_encoder_name_alone(encoder, widths):
    cfg = base_model('timm_unet')
    cfg.backbone.model_name = encoder  # the only change
    model = MODELS.build(cfg).eval()
    assert list(model.decode_head.in_channels) == widths
    with torch.no_grad():
        out = model(torch.randn(1, 3, 64, 64), mode='tensor')
    assert out.shape[0] == 1 and out.shape[1] == 1
    # the decoder climbs back to the input size (4 or 5 encoder levels alike)
    assert tuple(out.shape[2:]) == (64, 64)


def test_same_parameters_as_encoder_decoder_with_explicit_widths():
    auto = MODELS.build(base_model('timm_unet'))
    cfg = base_model('timm_unet')
    cfg.type = 'EncoderDecoder'
    cfg.pop('cpu_channels_last')
    cfg.decode_head.in_channels = [16, 24, 40, 112, 320]
    explicit = MODELS.build(cfg)
    a, e = auto.state_dict(), explicit.state_dict()
    assert list(a) == list(e)
    assert all(a[k].shape == e[k].shape for k in a)


def test_cpu_channels_last_changes_the_layout_not_the_result():
    """The timm U-Net config feeds its encoder channels-last on the CPU; logits and gradients
    equal those of the plain layout (same weights) up to float rounding."""
    cfg = base_model('timm_unet')
    cfg.backbone.model_name = 'resnet18'
    assert cfg.cpu_channels_last is True
    torch.manual_seed(0)
    fast = MODELS.build(cfg)
    plain = MODELS.build(dict(cfg, cpu_channels_last=False))
    plain.load_state_dict(fast.state_dict())
    seen = []
    fast.backbone.register_forward_pre_hook(lambda m, args: seen.append(
        args[0].is_contiguous(memory_format=torch.channels_last)))
    x = torch.randn(2, 3, 64, 64)
    outs = []
    for model in (fast, plain):
        out = model.train()(x, mode='tensor')
        out.square().mean().backward()
        outs.append((out, model.backbone.timm_model.conv1.weight.grad))
    assert seen == [True]
    assert torch.allclose(outs[0][0], outs[1][0], atol=1e-5)
    # summation order differs (BatchNorm backward over two layouts): compare as a whole
    grad_fast, grad_plain = outs[0][1], outs[1][1]
    assert (grad_fast - grad_plain).norm() / grad_plain.norm() < 1e-2


def test_geonext_arch_alone_sets_the_head_widths():
    cfg = base_model('geonext')
    cfg.backbone.arch = 'atto'
    model = MODELS.build(cfg)
    assert list(model.decode_head.in_channels) == [40, 80, 160, 320]
    with torch.no_grad():
        out = model.eval()(torch.randn(1, 3, 64, 64), mode='tensor')
    assert tuple(out.shape) == (1, 1, 64, 64)


def test_digate_neck_and_head_follow_another_encoder():
    cfg = base_model('digate_unet')
    cfg.backbone.model_name = 'test_efficientnet'  # timm's tiny test network
    model = MODELS.build(cfg)
    widths = [16, 24, 32, 48, 64]
    assert model.neck.in_channels == widths
    assert list(model.decode_head.in_channels) == widths
    with torch.no_grad():
        out = model.eval()(torch.randn(1, 4, 64, 64), mode='tensor')
    assert tuple(out.shape) == (1, 1, 64, 64)


def test_explicit_widths_are_kept():
    cfg = base_model('timm_unet')
    cfg.decode_head.in_channels = [24, 40, 112, 320]
    cfg.decode_head.in_index = [1, 2, 3, 4]
    model = MODELS.build(cfg)
    assert list(model.decode_head.in_channels) == [24, 40, 112, 320]


def test_in_index_picks_the_levels():
    cfg = base_model('timm_unet')
    cfg.decode_head.in_index = [2, 3, 4]
    model = MODELS.build(cfg)
    assert list(model.decode_head.in_channels) == [40, 112, 320]


def test_in_index_beyond_the_encoder_is_a_clear_error():
    cfg = base_model('timm_unet')
    cfg.backbone.model_name = 'convnextv2_atto'  # four levels
    cfg.decode_head.in_index = [0, 1, 2, 3, 4]
    with pytest.raises(ConfigError, match=r'in_index=\[0, 1, 2, 3, 4\] does not fit the 4 maps'):
        MODELS.build(cfg)


def test_auto_without_the_auto_width_segmentor_is_a_clear_error():
    cfg = base_model('timm_unet')
    cfg.type = 'EncoderDecoder'
    cfg.pop('cpu_channels_last')
    with pytest.raises(ConfigError, match="AutoWidthEncoderDecoder"):
        MODELS.build(cfg)
