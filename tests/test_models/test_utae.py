"""U-TAE parts: shapes, channel layout, padded dates, aggregation, one training step."""
import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmengine.structures import PixelData

from lszoo.errors import ConfigError
from lszoo.models.layers.ltae import LTAE2d, temporal_aggregate

W = [8, 8, 8, 16]


def tiny(n_dates=5, in_channels=4, static=1, **kw):
    bb = MODELS.build(dict(type='UTAEEncoder', in_channels=in_channels, n_dates=n_dates,
                           static_channels=static, encoder_widths=W, n_head=4, d_model=16,
                           **kw))
    head = MODELS.build(dict(type='UTAEHead', in_channels=W, decoder_widths=W, num_classes=2,
                             out_channels=1, threshold=0.5,
                             loss_decode=dict(type='BinaryCrossEntropyLoss')))
    return bb, head


def test_shapes_and_date_major_layout():
    bb, head = tiny()
    x = torch.randn(2, 5 * 3 + 1, 32, 32)
    feats = bb(x)
    assert [tuple(f.shape) for f in feats] == [(2, 8, 32, 32), (2, 8, 16, 16), (2, 8, 8, 8),
                                               (2, 16, 4, 4)]
    assert head(feats).shape == (2, 1, 32, 32)
    series = bb.to_series(x)
    assert series.shape == (2, 5, 4, 32, 32)
    assert torch.equal(series[:, 2, :3], x[:, 6:9]) and torch.equal(series[:, 4, 3], x[:, 15])
    with pytest.raises(ConfigError, match='expected n_dates'):
        bb(torch.randn(1, 17, 32, 32))


def test_padded_date_gets_no_attention():
    torch.manual_seed(0)
    ltae = LTAE2d(in_channels=16, n_head=4, d_k=4, mlp=(16, 16), d_model=16,
                  positional_encoding=False).eval()
    x = torch.randn(2, 4, 16, 3, 3)
    pad = torch.tensor([[False, False, False, True], [False, False, False, False]])
    _, attn = ltae(x, pad_mask=pad)
    assert attn.shape == (4, 2, 4, 3, 3)
    assert attn[:, 0, 3].abs().max() < 1e-6
    torch.testing.assert_close(attn.sum(2), torch.ones(4, 2, 3, 3))
    # (a padded date still enters L-TAE's input GroupNorm statistics, as in the reference)
    bb, _ = tiny(in_channels=3, static=0, pad_value=0.0)
    bb.eval()
    seen = {}
    bb.temporal_encoder.register_forward_hook(lambda m, i, o: seen.update(attn=o[1]))
    series = torch.randn(1, 5 * 3, 16, 16)
    series[:, 3:6] = 0.0  # date 1 is padding
    bb(series)
    assert seen['attn'][:, 0, 1].abs().max() < 1e-6 and seen['attn'][:, 0, 0].min() > 0


def test_positional_encoding_and_aggregation_modes():
    ltae = LTAE2d(in_channels=8, n_head=2, d_k=2, mlp=(8, 8), d_model=8).eval()
    x = torch.randn(1, 3, 8, 2, 2)
    with pytest.raises(ValueError, match='positions'):
        ltae(x)
    a, _ = ltae(x, positions=torch.tensor([[0., 10., 20.]]))
    b, _ = ltae(x, positions=torch.tensor([[0., 10., 300.]]))
    assert not torch.allclose(a, b)
    attn = torch.softmax(torch.randn(2, 1, 3, 2, 2), dim=2)
    feats = torch.randn(1, 3, 4, 4, 4)
    g = temporal_aggregate(feats, attn, 'att_group')
    up = torch.nn.functional.interpolate(attn[0], size=(4, 4), mode='bilinear',
                                         align_corners=False)
    torch.testing.assert_close(g[:, :2], (feats[:, :, :2] * up[:, :, None]).sum(1))
    torch.testing.assert_close(temporal_aggregate(feats, attn, 'mean'), feats.mean(1))
    assert temporal_aggregate(feats, attn, 'att_mean').shape == (1, 4, 4, 4)


def test_paper_settings_parameter_count(repo_root):
    """Count of the authors' settings (configs/_base_/models/utae.py, S2 + DEM): equal to the
    reference U-TAE's (github.com/VSainteuf/utae-paps, out_conv=[1]), counted there once."""
    cfg = Config.fromfile(f'{repo_root}/configs/utae/utae_sen12ls-ld_s2.py')
    bb = MODELS.build(cfg.model.backbone)
    head = MODELS.build(cfg.model.decode_head)
    n = sum(p.numel() for m in (bb, head) for p in m.parameters())
    assert n == 1_072_995


def test_demo_model_trains_a_step(repo_root):
    torch.manual_seed(0)
    cfg = Config.fromfile(f'{repo_root}/configs/demo/utae_sen12_synthetic.py')
    model = MODELS.build(cfg.model)
    x = torch.randn(2, 151, 32, 32)
    samples = []
    for _ in range(2):
        s = SegDataSample(metainfo=dict(img_shape=(32, 32), ori_shape=(32, 32),
                                        pad_shape=(32, 32)))
        s.gt_sem_seg = PixelData(data=(torch.rand(1, 32, 32) > 0.8).long())
        samples.append(s)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    losses = model.loss(x, samples)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert torch.isfinite(total)
    assert model.backbone.in_conv[0].weight.grad.abs().sum() > 0
    opt.step()
    model.eval()
    with torch.no_grad():
        pred = model.predict(x, samples)
    assert pred[0].pred_sem_seg.data.shape == (1, 32, 32)
