"""DiGATe-UNet assembled: parameter check, frozen encoders, streams, losses, inference output."""
import os.path as osp

import pytest
import timm
import torch
from helpers import REPO
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import lszoo  # noqa: F401
from lszoo.errors import CheckpointError, ConfigError

BASE = osp.join(REPO, 'configs', '_base_', 'models', 'digate_unet.py')
BIJIE = osp.join(REPO, 'configs', 'digate_unet', 'digate_unet_bijie.py')
TINY = 'test_efficientnet'  # timm's 82 k-parameter test network, widths 16, 24, 32, 48, 64
TINY_CH = (16, 24, 32, 48, 64)

init_default_scope('mmseg')


def tiny_model_cfg(**backbone):
    cfg = Config.fromfile(BASE).model
    cfg.backbone.update(model_name=TINY, **backbone)
    cfg.neck.in_channels = TINY_CH
    cfg.decode_head.in_channels = TINY_CH
    return cfg


def samples(n=2, size=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        mask = (torch.rand(1, size, size, generator=g) > 0.7).long()
        s = SegDataSample(metainfo=dict(img_shape=(size, size), pad_shape=(size, size),
                                        ori_shape=(size, size)))
        s.gt_sem_seg = PixelData(data=mask)
        out.append(s)
    return out


def count(model):
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())


def test_bijie_config_parameter_counts_match_the_paper():
    cfg = Config.fromfile(BIJIE)
    model = MODELS.build(cfg.model)
    assert cfg.model.backbone.model_name == 'tf_efficientnet_b4.ns_jft_in1k'
    assert cfg.model.backbone.frozen is True and cfg.model.backbone.shared is False
    assert count(model) == (1_237_515, 34_721_947)
    # the difference is exactly two B4 feature encoders
    assert sum(p.numel() for p in model.backbone.parameters()) == 2 * 16_742_216


def test_frozen_encoder_gets_no_gradient_but_updates_bn_statistics():
    model = MODELS.build(tiny_model_cfg(stream_channels=([0, 1, 2], [3, 3, 3]),
                                        frozen=(True, False)))
    model.train()
    frozen, trained = model.backbone.encoders
    bn_before = [m.running_mean.clone() for m in frozen.modules()
                 if isinstance(m, torch.nn.BatchNorm2d)]
    x = torch.randn(2, 4, 64, 64)
    losses = model.loss(x, samples())
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None for p in frozen.parameters())
    assert all(not p.requires_grad for p in frozen.parameters())
    assert all(p.grad is not None for p in trained.parameters())
    assert all(p.grad is not None for p in model.decode_head.parameters())
    assert all(p.grad is not None for p in model.neck.parameters())
    bn_after = [m.running_mean for m in frozen.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    # paper semantics: frozen weights, but BatchNorm statistics still follow the data
    assert any(not torch.equal(a, b) for a, b in zip(bn_before, bn_after))


def test_streams_are_picked_from_the_input_channels():
    bb = MODELS.build(dict(type='DualStreamTimmEncoder', model_name=TINY,
                           stream_channels=([2, 0, 1], [3, 3, 3])))
    seen = []
    for enc in bb.encoders:
        enc.register_forward_pre_hook(lambda m, args: seen.append(args[0].clone()))
    x = torch.arange(5.).view(1, 5, 1, 1).expand(2, 5, 32, 32).contiguous()
    feats_a, feats_b = bb(x)
    assert seen[0][0, :, 0, 0].tolist() == [2., 0., 1.]
    assert seen[1][0, :, 0, 0].tolist() == [3., 3., 3.]
    assert [f.shape[1] for f in feats_a] == list(TINY_CH) == bb.out_channels
    assert [f.shape[-1] for f in feats_b] == [16, 8, 4, 2, 1]
    # a contiguous run is a view of the input, not a copy
    bb2 = MODELS.build(dict(type='DualStreamTimmEncoder', model_name=TINY,
                            stream_channels=([0, 1, 2], [3, 4])))
    assert bb2.encoders[1].conv_stem.in_channels == 2
    assert bb2._select(x, 0).data_ptr() == x.data_ptr()
    # a dataset stream_layout mapping is accepted as is
    bb3 = MODELS.build(dict(type='DualStreamTimmEncoder', model_name=TINY,
                            stream_channels={'optical': [0, 1, 2], 'topo': [3]}))
    assert bb3.stream_channels == [[0, 1, 2], [3]]


def test_stream_errors_name_the_problem():
    bb = MODELS.build(dict(type='DualStreamTimmEncoder', model_name=TINY,
                           stream_channels=([0, 1, 2], [5, 5, 5])))
    with pytest.raises(ConfigError, match=r'stream_channels.*\(N, >=6, H, W\).*\(1, 4, 32, 32\)'):
        bb(torch.randn(1, 4, 32, 32))
    with pytest.raises(ConfigError, match='same channel count'):
        MODELS.build(dict(type='DualStreamTimmEncoder', model_name=TINY, shared=True,
                          stream_channels=([0, 1, 2], [3])))
    with pytest.raises(ConfigError, match='two non-empty'):
        MODELS.build(dict(type='DualStreamTimmEncoder', model_name=TINY,
                          stream_channels=([0, 1, 2],)))
    with pytest.raises(ConfigError, match=r"'test_convnext'.*out_indices=\(0, 1, 2, 3, 4\)"):
        MODELS.build(dict(type='DualStreamTimmEncoder', model_name='test_convnext'))  # 4 levels
    with pytest.raises(ConfigError, match='no_such_net'):
        MODELS.build(dict(type='DualStreamTimmEncoder', model_name='no_such_net'))
    model = MODELS.build(tiny_model_cfg())
    head = model.decode_head
    bad = [torch.zeros(1, c, 2 ** (5 - i), 2 ** (5 - i))
           for i, c in enumerate((16, 24, 32, 48, 65))]
    with pytest.raises(ConfigError, match=r'in_channels=\[16, 24, 32, 48, 64\].*widths '
                                          r'\[16, 24, 32, 48, 65\]'):
        head((bad, bad))


def test_shared_encoder_eval_batches_both_streams_exactly():
    bb = MODELS.build(dict(type='DualStreamTimmEncoder', model_name=TINY, shared=True,
                           stream_channels=([0, 1, 2], [3, 3, 3])))
    assert len(bb.encoders) == 1
    bb.eval()
    x = torch.randn(2, 4, 64, 64)
    with torch.no_grad():
        fa, fb = bb(x)
        ref_a = bb.encoders[0](x[:, :3])
        ref_b = bb.encoders[0](x[:, [3, 3, 3]])
    for f, r in zip(fa + fb, list(ref_a) + list(ref_b)):
        assert torch.allclose(f, r, atol=1e-5)


def test_compile_frozen_compiles_only_the_frozen_encoder_and_keeps_its_state_dict():
    graphs = []

    def counting_backend(gm, example_inputs):  # records each graph it is asked to compile
        graphs.append(gm)
        return gm.forward

    torch._dynamo.reset()
    cfg = dict(type='DualStreamTimmEncoder', model_name=TINY, frozen=(True, False),
               stream_channels=([0, 1, 2], [3, 3, 3]))
    plain = MODELS.build(cfg)
    compiled = MODELS.build(dict(cfg, compile_frozen=dict(backend=counting_backend)))
    compiled.load_state_dict(plain.state_dict())
    assert list(compiled.state_dict()) == list(plain.state_dict())
    x = torch.randn(2, 4, 64, 64)
    for mode in ('eval', 'train'):  # BN statistics update in train mode, as without compiling
        getattr(plain, mode)(), getattr(compiled, mode)()
        before = len(graphs)
        fa, fb = plain(x)
        ca, cb = compiled(x)
        assert len(graphs) > before  # the frozen encoder went through the compiler ...
        for f, c in zip(fa + fb, ca + cb):
            assert torch.equal(f, c)
    for k, v in plain.state_dict().items():
        assert torch.equal(v, compiled.state_dict()[k]), k
    n = len(graphs)
    compiled.encoders[1](x[:, :3])  # ... the trainable one does not
    assert len(graphs) == n
    with pytest.raises(ConfigError, match='compile_frozen needs a frozen encoder'):
        MODELS.build(dict(cfg, frozen=False, compile_frozen=True))
    torch._dynamo.reset()


def test_losses_deep_supervision_and_gate_regulariser():
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(stream_channels=([0, 1, 2], [3, 3, 3])))
    model.train()
    x = torch.randn(2, 4, 64, 64)
    data = samples()
    losses = model.loss(x, data)
    assert {'decode.loss_tversky', 'decode.aux_quarter_loss_tversky',
            'decode.aux_half_loss_tversky', 'decode.loss_gate_reg'} <= set(losses)
    # recompute from the head's training outputs by hand
    head = model.decode_head
    model.eval()  # same weights, deterministic BN: compare eval-mode numbers
    with torch.no_grad():
        losses_eval = head.loss(model.neck(model.backbone(x)), data, None)
        feats = model.neck(model.backbone(x))
        assert len(feats.gate_regs) == 2  # the two early gates
        main, aux_q, aux_h, regs = head.forward_train(feats)
    assert len(regs) == 4 and all(0 <= r <= 0.25 for r in regs)
    assert main.shape == (2, 1, 64, 64)
    assert aux_q.shape == (2, 1, 16, 16) and aux_h.shape == (2, 1, 32, 32)
    label = torch.stack([s.gt_sem_seg.data for s in data]).squeeze(1)
    tversky = head.loss_decode

    def up(t):
        return torch.nn.functional.interpolate(t, size=(64, 64), mode='bilinear',
                                               align_corners=True)

    assert losses_eval['loss_tversky'] == pytest.approx(tversky(main, label).item(), rel=1e-5)
    assert losses_eval['aux_quarter_loss_tversky'] == pytest.approx(
        0.6 * tversky(up(aux_q), label).item(), rel=1e-5)
    assert losses_eval['aux_half_loss_tversky'] == pytest.approx(
        0.4 * tversky(up(aux_h), label).item(), rel=1e-5)
    assert losses_eval['loss_gate_reg'] == pytest.approx(1e-3 * sum(r.item() for r in regs),
                                                         rel=1e-5)
    # accuracy of the one-channel output uses the threshold, not an argmax over one channel
    pred = (main[:, 0].sigmoid() > 0.5).long()
    assert losses_eval['acc_seg'].item() == pytest.approx(
        (pred == label).float().mean().item() * 100, rel=1e-5)


def test_configurable_aux_weights_and_no_regulariser():
    cfg = tiny_model_cfg(stream_channels=([0, 1, 2], [3]))
    cfg.decode_head.update(aux_weights=(0.0, 1.0), gate_reg_weight=0)
    model = MODELS.build(cfg)
    assert model.decode_head.conv_aux_quarter is None
    losses = model.loss(torch.randn(2, 4, 64, 64), samples())
    assert 'decode.aux_half_loss_tversky' in losses
    assert not any('aux_quarter' in k or 'gate_reg' in k for k in losses)


def test_inference_returns_only_the_main_output_and_two_channel_softmax():
    model = MODELS.build(tiny_model_cfg(stream_channels=([0, 1, 2], [3, 3, 3]))).eval()
    x = torch.randn(1, 4, 64, 64)
    with torch.no_grad():
        out = model(x, mode='tensor')
        pred = model.predict(x, samples(1))
    assert out.shape == (1, 1, 64, 64)
    assert pred[0].seg_logits.data.shape == (1, 64, 64)
    assert set(pred[0].pred_sem_seg.data.unique().tolist()) <= {0, 1}

    cfg = tiny_model_cfg(stream_channels=([0, 1, 2], [3, 3, 3]))
    cfg.decode_head.update(out_channels=2, threshold=None)
    cfg.decode_head.loss_decode = dict(type='CrossEntropyLoss', loss_weight=1.0)
    model2 = MODELS.build(cfg)
    losses = model2.loss(torch.randn(2, 4, 64, 64), samples())
    assert {'decode.loss_ce', 'decode.aux_quarter_loss_ce', 'decode.aux_half_loss_ce'} \
        <= set(losses)
    with torch.no_grad():
        assert model2.eval()(x, mode='tensor').shape == (1, 2, 64, 64)


def test_head_without_neck_has_no_early_fusion():
    cfg = tiny_model_cfg(stream_channels=([0, 1, 2], [3, 3, 3]))
    bb = MODELS.build(cfg.backbone)
    head = MODELS.build(cfg.decode_head)
    feats = bb(torch.randn(2, 4, 64, 64))
    *_, regs = head.forward_train(feats)
    assert len(regs) == 2  # only the two late gates


def test_encoder_checkpoint_loading(tmp_path):
    src = timm.create_model(TINY, features_only=True)
    full = timm.create_model(TINY)  # with classifier: extra keys are ignored
    full.load_state_dict({**full.state_dict(), **src.state_dict()})
    path = tmp_path / 'enc.pth'
    torch.save({'state_dict': {'backbone.' + k: v for k, v in full.state_dict().items()}}, path)
    bb = MODELS.build(dict(type='DualStreamTimmEncoder', model_name=TINY,
                           stream_channels=([0, 1, 2], [3, 4]), checkpoint=str(path),
                           checkpoint_prefix='backbone.'))
    a, b = bb.encoders
    for k, v in src.state_dict().items():
        assert torch.equal(a.state_dict()[k], v)
    # two-channel stream: the RGB stem is adapted (timm adapt_input_conv), other weights equal
    assert b.conv_stem.weight.shape[1] == 2
    assert all(torch.equal(b.state_dict()[k], v) for k, v in src.state_dict().items()
               if k != 'conv_stem.weight')
    # timm adapt_input_conv for 2 channels: the first two RGB filters, scaled by 3 / 2
    assert torch.allclose(b.conv_stem.weight, src.conv_stem.weight[:, :2] * 1.5)
    with pytest.raises(CheckpointError, match='tensors missing.*checkpoint_prefix'):
        MODELS.build(dict(type='DualStreamTimmEncoder', model_name=TINY, checkpoint=str(path)))
    with pytest.raises(CheckpointError, match='does not exist'):
        MODELS.build(dict(type='DualStreamTimmEncoder', model_name=TINY,
                          checkpoint=str(tmp_path / 'nope.pth')))
