"""Bi-temporal model parts: the siamese encoder shares one parameter set and both dates train
it; the fusion neck's modes give the documented maps; the change head and the neck chain fit."""
import pytest
import torch

from lszoo.errors import ConfigError

ENC = dict(type='TIMMBackbone', model_name='lcnet_050', features_only=True, pretrained=False)
STREAMS = dict(post=[0, 1, 2], pre=[3, 4, 5])


def _siamese(**kwargs):
    from mmseg.registry import MODELS
    return MODELS.build(dict(type='SiameseEncoder', encoder=ENC,
                             stream_channels=kwargs.pop('stream_channels', STREAMS), **kwargs))


def test_siamese_encoder_has_one_parameter_set():
    from mmseg.registry import MODELS
    torch.manual_seed(0)
    siamese = _siamese()
    single = MODELS.build(dict(ENC, in_channels=3))
    assert sum(p.numel() for p in siamese.parameters()) == \
        sum(p.numel() for p in single.parameters())
    assert {n for n, _ in siamese.named_parameters()} == \
        {f'encoder.{n}' for n, _ in single.named_parameters()}


def test_siamese_encoder_applies_the_same_weights_to_both_dates():
    torch.manual_seed(0)
    enc = _siamese().eval()
    a, b = torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        f1 = enc(torch.cat([a, b], 1))  # post=a, pre=b
        f2 = enc(torch.cat([b, a], 1))  # dates swapped
    for x, y in zip(f1.post, f2.pre):
        torch.testing.assert_close(x, y)
    assert f1.dem is None and len(f1.pre) == len(enc.out_channels) == 5


@pytest.mark.parametrize('date', ['pre', 'post'])
def test_both_dates_give_the_shared_weights_gradients(date):
    torch.manual_seed(0)
    enc = _siamese().train()
    feats = enc(torch.rand(2, 6, 64, 64))
    getattr(feats, date)[-1].square().mean().backward()
    stem = enc.encoder.timm_model.conv_stem.weight
    assert stem.grad is not None and stem.grad.abs().sum() > 0


def test_frozen_siamese_encoder_gets_no_gradient():
    enc = _siamese(frozen=True).train()
    feats = enc(torch.rand(2, 6, 32, 32))
    assert not feats.post[-1].requires_grad
    assert all(not p.requires_grad for p in enc.parameters())


def test_dem_stream_is_single_date():
    torch.manual_seed(0)
    streams = dict(STREAMS, dem=[6, 6, 6])
    sep = _siamese(stream_channels=streams, dem_encoder=ENC).eval()
    x = torch.rand(1, 7, 64, 64)
    with torch.no_grad():
        out = sep(x)
    assert len(out.dem) == 5 and out.dem[0].shape == out.pre[0].shape
    assert sep.dem_encoder is not sep.encoder
    appended = _siamese(stream_channels=dict(STREAMS, dem=[6])).eval()
    # appended: each date's encoder input is its 3 bands + the same DEM band
    assert appended.encoder.timm_model.conv_stem.weight.shape[1] == 4
    assert appended(x).dem is None


@pytest.mark.parametrize('streams, match', [
    (dict(post=[0, 1, 2]), "'post' and\n?.*'pre'"),
    (dict(post=[0, 1, 2], pre=[3, 4]), 'same channel count'),
    (dict(post=[0, 1, 2], pre=[3, 4, 5], cloud=[6]), 'unknown streams'),
])
def test_siamese_encoder_bad_streams(streams, match):
    with pytest.raises(ConfigError, match=match):
        _siamese(stream_channels=streams)


def test_siamese_encoder_names_the_missing_channels():
    with pytest.raises(ConfigError, match=r'>=6'):
        _siamese()(torch.rand(1, 3, 32, 32))


@pytest.mark.parametrize('mode, factor', [('diff', 1), ('abs_diff', 1), ('concat', 2),
                                          ('both', 3)])
@pytest.mark.parametrize('project', [False, True])
def test_fusion_modes_shapes(mode, factor, project):
    from lszoo.models.backbones.siamese_encoder import BitemporalFeatures
    from lszoo.models.necks import TemporalFusionNeck
    widths = [4, 8]
    neck = TemporalFusionNeck(widths, mode=mode, project=project).eval()
    pre = tuple(torch.rand(2, c, 16 // (i + 1), 16 // (i + 1)) for i, c in enumerate(widths))
    post = tuple(torch.rand_like(p) for p in pre)
    out = neck(BitemporalFeatures(pre, post, None))
    want = widths if project else [factor * c for c in widths]
    assert neck.out_channels == want
    assert [o.shape[1] for o in out] == want
    assert [o.shape[2:] for o in out] == [p.shape[2:] for p in pre]
    if not project:
        ref = {'diff': post[0] - pre[0], 'abs_diff': (post[0] - pre[0]).abs(),
               'concat': torch.cat([pre[0], post[0]], 1),
               'both': torch.cat([pre[0], post[0], post[0] - pre[0]], 1)}[mode]
        torch.testing.assert_close(out[0], ref)


def test_fusion_neck_second_stream_and_errors():
    from lszoo.models.backbones.siamese_encoder import BitemporalFeatures
    from lszoo.models.necks import TemporalFusionNeck
    pre = (torch.rand(1, 4, 8, 8),)
    post = (torch.rand(1, 4, 8, 8),)
    dem = (torch.rand(1, 4, 8, 8),)
    fused, second = TemporalFusionNeck([4], second_stream='dem')(
        BitemporalFeatures(pre, post, dem))
    assert second[0] is dem[0]
    with pytest.raises(ConfigError, match="second_stream='dem'"):
        TemporalFusionNeck([4])(BitemporalFeatures(pre, post, dem))
    with pytest.raises(ConfigError, match='no\n?.*dem_encoder'):
        TemporalFusionNeck([4], second_stream='dem')(BitemporalFeatures(pre, post, None))
    with pytest.raises(ConfigError, match='mode must be one of'):
        TemporalFusionNeck([4], mode='ratio')


def test_token_change_head_reads_both_dates():
    from mmseg.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='AutoWidthEncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=None, std=None,
                               bgr_to_rgb=False, size_divisor=32),
        backbone=dict(type='SiameseEncoder', encoder=ENC, stream_channels=STREAMS),
        decode_head=dict(type='TokenChangeHead', in_channels='auto', in_index=(1, 2, 3),
                         channels=16, num_tokens=4, num_heads=4, num_classes=2,
                         out_channels=1, threshold=0.5)))
    head = model.decode_head
    assert head.in_channels == sum(model.backbone.out_channels[1:4])
    x = torch.rand(2, 6, 64, 64, requires_grad=True)
    logits = model(x, mode='tensor')
    assert logits.shape == (2, 1, 16, 16)  # stride 4; mmseg resizes to the input
    logits.sum().backward()
    assert x.grad[:, :3].abs().sum() > 0 and x.grad[:, 3:].abs().sum() > 0
    with pytest.raises(ConfigError, match='divisible'):
        MODELS.build(dict(type='TokenChangeHead', in_channels=[8, 8, 8], channels=10,
                          num_heads=4, num_classes=2, out_channels=1))


def test_neck_sequence_chains_widths():
    from mmseg.registry import MODELS
    torch.manual_seed(0)
    enc = _siamese(stream_channels=dict(STREAMS, dem=[6, 6, 6]), dem_encoder=ENC).eval()
    neck = MODELS.build(dict(type='NeckSequence', in_channels=enc.out_channels, necks=[
        dict(type='TemporalFusionNeck', mode='both', project=True, second_stream='dem'),
        dict(type='GatedFusionNeck', fuse_levels=(2, 3))])).eval()
    assert neck.out_channels == enc.out_channels
    with torch.no_grad():
        out = neck(enc(torch.rand(1, 7, 64, 64)))
    assert [f.shape[1] for f in out.stream_a] == enc.out_channels
    assert len(out.gate_regs) == 2
