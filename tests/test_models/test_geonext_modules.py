"""GeoNeXt building blocks: PSA module against a hand-built computation, PSA block, ASPP, the
PSA-ASPP head, the ConvNeXt V2 encoder (N bands, local checkpoints) and parameter counts."""
import os.path as osp
import re

import pytest
import torch
import torch.nn.functional as F

from helpers import REPO
import lszoo  # noqa: F401  (registers the modules)
from lszoo.errors import CheckpointError, ConfigError
from lszoo.models.backbones.convnextv2 import ConvNeXtV2Encoder, adapt_stem_weight
from lszoo.models.decode_heads.psa_aspp_head import PSAASPPHead
from lszoo.models.layers.aspp import AtrousPyramidPooling
from lszoo.models.layers.psa import PSABlock, PSAModule


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def hand_psa(psa, x, kernels, groups):
    """PSA written out step by step from EPSANet's description, with explicit group counts."""
    branches = []
    for conv, k, g in zip(psa.convs, kernels, groups):
        branches.append(F.conv2d(x, conv.weight, conv.bias, padding=k // 2, groups=g))
    se = psa.se
    scores = []
    for b in branches:
        s = b.mean(dim=(2, 3), keepdim=True)  # squeeze
        s = F.conv2d(s, se.fc1.weight, se.fc1.bias).clamp(min=0)
        s = torch.sigmoid(F.conv2d(s, se.fc2.weight, se.fc2.bias))
        scores.append(s)
    exps = [torch.exp(s) for s in scores]
    total = sum(exps)
    return torch.cat([b * (e / total) for b, e in zip(branches, exps)], dim=1)


def test_psa_module_matches_hand_computation():
    torch.manual_seed(0)
    psa = PSAModule(32, 32)  # quarter = 8: groups 1, 4, 8; 16 -> min(16, 8) = 8 (reference rule)
    assert psa.groups == (1, 4, 8, 8)
    assert [tuple(c.weight.shape) for c in psa.convs] == [
        (8, 32, 3, 3), (8, 8, 5, 5), (8, 4, 7, 7), (8, 4, 9, 9)]
    # the reference's branches 2-4 carry a bias, branch 1 none
    assert [c.bias is not None for c in psa.convs] == [False, True, True, True]
    # make the SE scores differ between branches so that the softmax matters
    with torch.no_grad():
        psa.se.fc2.bias.normal_(0, 2)
    x = torch.randn(2, 32, 6, 5)
    expected = hand_psa(psa, x, (3, 5, 7, 9), (1, 4, 8, 8))
    out = psa(x)
    assert out.shape == (2, 32, 6, 5)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)


def test_psa_module_weights_are_a_softmax_across_branches():
    torch.manual_seed(1)
    psa = PSAModule(8, 8, kernels=(1, 3), groups=(1, 2), reduction=4, branch_bias=(False, False))
    with torch.no_grad():
        for conv in psa.convs:  # each branch passes a constant 1 through: output = its weight
            conv.weight.zero_()
        psa.convs[0].weight[:, 0] = 1.0  # 1x1: out = x[:, 0]
        psa.convs[1].weight[:, 0, 1, 1] = 1.0  # 3x3 group 1 (input 0..3): centre tap of x[:, 0]
    x = torch.ones(1, 8, 3, 3)
    out = psa(x)
    # both branches output 1 everywhere, so the output holds the softmax weights themselves,
    # and the weights of branch 0 and branch 1 sum to one for every channel
    torch.testing.assert_close(out[:, :4] + out[:, 4:], torch.ones(1, 4, 3, 3))
    # identical branch features give identical SE scores -> softmax of equal scores = 1/2
    torch.testing.assert_close(out, torch.full((1, 8, 3, 3), 0.5))


def test_psa_module_group_rule_for_narrow_widths():
    # the reference's rule: g' = min(g, quarter), kept if it divides the quarter, else 1
    psa = PSAModule(12)  # quarter = 3: 4, 8, 16 -> 3
    assert psa.groups == (1, 3, 3, 3)
    x = torch.randn(1, 12, 4, 4)
    torch.testing.assert_close(psa(x), hand_psa(psa, x, (3, 5, 7, 9), (1, 3, 3, 3)),
                               rtol=1e-5, atol=1e-6)
    # atto's shallowest PSA block (quarter 10): 4 and 8 do not divide 10 -> 1; 16 -> 10
    atto = PSAModule(40)
    assert atto.groups == (1, 1, 1, 10)
    # the reference's SE hidden width is 10 // 16 = 0 and its forward fails; lszoo keeps 1
    assert atto.se.fc1.out_channels == 1
    assert atto(torch.randn(1, 40, 4, 4)).shape == (1, 40, 4, 4)
    # tiny's quarters 96, 48, 24
    assert [PSAModule(4 * q).groups for q in (96, 48, 24)] == [
        (1, 4, 8, 16), (1, 4, 8, 16), (1, 4, 8, 1)]
    with pytest.raises(ConfigError, match='channels=10 is not divisible'):
        PSAModule(10)


def test_psa_block_residual_and_gradients():
    torch.manual_seed(0)
    block = PSABlock(24, 16)
    assert not isinstance(block.shortcut, torch.nn.Identity)
    assert isinstance(PSABlock(16, 16).shortcut, torch.nn.Identity)
    x = torch.randn(2, 24, 8, 8, requires_grad=True)
    y = block(x)
    assert y.shape == (2, 16, 8, 8)
    assert (y >= 0).all()  # final ReLU
    y.sum().backward()
    assert x.grad.abs().sum() > 0
    assert all(p.grad is not None for p in block.parameters())


def test_aspp_full_resolution_branches_and_batch_of_one():
    aspp = AtrousPyramidPooling(12, 8, dilations=(1, 6, 12, 18))
    assert len(aspp.branches) == 4
    assert aspp.branches[0].conv.kernel_size == (1, 1)
    assert [b.conv.dilation for b in list(aspp.branches)[1:]] == [(6, 6), (12, 12), (18, 18)]
    assert all(b.conv.bias is not None for b in aspp.branches)
    assert aspp.project.conv.in_channels == 5 * 8
    aspp.train()
    out = aspp(torch.randn(1, 12, 20, 24))  # batch 1 in training mode: pooled branch has no BN
    assert out.shape == (1, 8, 20, 24)


@pytest.mark.parametrize('out_channels', [1, 2])
def test_psa_aspp_head_full_resolution_output(out_channels):
    torch.manual_seed(0)
    enc = ConvNeXtV2Encoder('atto', in_channels=4)
    head = PSAASPPHead(in_channels=enc.out_channels, num_classes=2, out_channels=out_channels,
                       threshold=0.5 if out_channels == 1 else None)
    for size in [(64, 64), (80, 72)]:  # 80x72: stride-32 maps need bilinear resizing
        x = torch.randn(2, 4, *size)
        logits = head(enc(x))
        assert logits.shape == (2, out_channels, *size)
    logits.mean().backward()
    assert enc.model.stem_0.weight.grad is not None


def test_geonext_tiny_parameter_counts():
    enc = ConvNeXtV2Encoder('tiny')
    head = PSAASPPHead(num_classes=2, out_channels=1)
    assert enc.out_channels == [96, 192, 384, 768]
    assert abs(n_params(enc) / 1e6 - 27.86) < 0.01
    assert abs(n_params(head) / 1e6 - 4.34) / 4.34 < 0.01
    assert abs((n_params(enc) + n_params(head)) / 1e6 - 32.21) / 32.21 < 0.01
    # exactly the reference's count (github ruribev/GeoNeXt geonext_tiny, 3 bands, 1 class)
    assert n_params(enc) + n_params(head) == 32_209_051


def test_encoder_any_channel_count_and_bad_arch():
    enc = ConvNeXtV2Encoder('atto', in_channels=14)
    feats = enc(torch.randn(1, 14, 64, 64))
    assert [f.shape[1] for f in feats] == [40, 80, 160, 320]
    assert [f.shape[-1] for f in feats] == [16, 8, 4, 2]
    with pytest.raises(ConfigError, match="arch='mega'"):
        ConvNeXtV2Encoder('mega')


# --- checkpoints -------------------------------------------------------------------------------

def timm_state_dict(seed=0):
    import timm
    torch.manual_seed(seed)
    return timm.create_model('convnextv2_atto', pretrained=False).state_dict()


def to_release_format(sd):
    """timm keys -> the original ConvNeXt V2 release keys (facebookresearch/ConvNeXt-V2)."""
    out = {}
    for k, v in sd.items():
        k2 = k.replace('stem.', 'downsample_layers.0.')
        k2 = re.sub(r'stages\.(\d+)\.downsample\.', r'downsample_layers.\1.', k2)
        k2 = re.sub(r'stages\.(\d+)\.blocks\.(\d+)\.', r'stages.\1.\2.', k2)
        k2 = k2.replace('conv_dw', 'dwconv').replace('mlp.fc', 'pwconv')
        if 'mlp.grn' in k2:
            k2 = k2.replace('mlp.grn.weight', 'grn.gamma').replace('mlp.grn.bias', 'grn.beta')
            v = v.reshape(1, 1, 1, -1)
        k2 = k2.replace('head.norm.', 'norm.').replace('head.fc.', 'head.')
        out[k2] = v
    return {'model': out}


def assert_encoder_has(enc, sd):
    own = enc.model.state_dict()
    torch.testing.assert_close(own['stages_2.blocks.1.mlp.fc1.weight'],
                               sd['stages.2.blocks.1.mlp.fc1.weight'])
    torch.testing.assert_close(own['stages_3.blocks.0.mlp.grn.weight'],
                               sd['stages.3.blocks.0.mlp.grn.weight'])
    torch.testing.assert_close(own['stages_1.downsample.1.weight'],
                               sd['stages.1.downsample.1.weight'])


@pytest.mark.parametrize('fmt', ['timm', 'timm_wrapped', 'release'])
def test_encoder_loads_local_checkpoint_formats(tmp_path, fmt):
    sd = timm_state_dict()
    data = {'timm': sd, 'timm_wrapped': {'state_dict': {f'module.{k}': v for k, v in sd.items()}},
            'release': to_release_format(sd)}[fmt]
    path = tmp_path / f'{fmt}.pth'
    torch.save(data, path)
    enc = ConvNeXtV2Encoder('atto', checkpoint=str(path))
    assert_encoder_has(enc, sd)
    torch.testing.assert_close(enc.model.stem_0.weight, sd['stem.0.weight'])
    # init_weights (called by mmengine's runner) must not re-initialise the loaded weights
    enc.init_weights()
    torch.testing.assert_close(enc.model.stem_0.weight, sd['stem.0.weight'])


def test_encoder_checkpoint_stem_adaptation(tmp_path):
    sd = timm_state_dict()
    path = tmp_path / 'atto.pth'
    torch.save(sd, path)
    w = sd['stem.0.weight']  # (40, 3, 4, 4)
    enc = ConvNeXtV2Encoder('atto', in_channels=5, checkpoint=str(path))  # repeat R,G,B,R,G
    got = enc.model.stem_0.weight
    assert got.shape == (40, 5, 4, 4)
    torch.testing.assert_close(got[:, 3], w[:, 0] * 3 / 5)
    torch.testing.assert_close(got[:, 4], w[:, 1] * 3 / 5)
    assert_encoder_has(enc, sd)
    # L4S: B4, B3, B2 are channels 3, 2, 1; the other 11 bands get the mean RGB weight
    enc14 = ConvNeXtV2Encoder('atto', in_channels=14, checkpoint=str(path), rgb_channels=(3, 2, 1))
    got = enc14.model.stem_0.weight
    torch.testing.assert_close(got[:, 3], w[:, 0] * 3 / 14)
    torch.testing.assert_close(got[:, 1], w[:, 2] * 3 / 14)
    torch.testing.assert_close(got[:, 0], w.mean(1) * 3 / 14)
    torch.testing.assert_close(got[:, 13], w.mean(1) * 3 / 14)
    mean = adapt_stem_weight(w, 2, mode='mean')
    torch.testing.assert_close(mean[:, 1], w.mean(1) * 1.5)
    with pytest.raises(ConfigError, match="stem_adapt='sum'"):
        adapt_stem_weight(w, 4, mode='sum')


def test_encoder_checkpoint_errors_name_the_file(tmp_path):
    missing = tmp_path / 'nope.pth'
    with pytest.raises(CheckpointError, match='nope.pth'):
        ConvNeXtV2Encoder('atto', checkpoint=str(missing))
    path = tmp_path / 'atto.pth'
    torch.save(timm_state_dict(), path)
    with pytest.raises(CheckpointError, match=r'atto\.pth: does not fit convnextv2_femto'):
        ConvNeXtV2Encoder('femto', checkpoint=str(path))
    junk = tmp_path / 'junk.pth'
    torch.save({'weights': [1, 2, 3]}, junk)
    with pytest.raises(CheckpointError, match='junk.pth'):
        ConvNeXtV2Encoder('atto', checkpoint=str(junk))


def test_encoder_from_whole_model_checkpoint_with_prefix_and_extra_band(tmp_path):
    """The domain-adaptation path with more bands than the CAS model: take the encoder out of an
    lszoo/mmseg checkpoint (``backbone.model.`` keys, decode-head keys ignored) and give the
    extra DEM band the mean RGB filter."""
    src = ConvNeXtV2Encoder('atto', in_channels=3)
    sd = {f'backbone.model.{k}': v for k, v in src.model.state_dict().items()}
    sd['decode_head.conv_seg.weight'] = torch.zeros(1, 32, 1, 1)
    path = tmp_path / 'cas_iter_2.pth'
    torch.save({'meta': {'iter': 2}, 'state_dict': sd}, path)
    enc = ConvNeXtV2Encoder('atto', in_channels=4, checkpoint=str(path),
                            checkpoint_prefix='backbone.model.', rgb_channels=(0, 1, 2))
    w = src.model.stem_0.weight.detach()
    got = enc.model.stem_0.weight
    torch.testing.assert_close(got[:, :3], w * 3 / 4)
    torch.testing.assert_close(got[:, 3], w.mean(1) * 3 / 4)
    torch.testing.assert_close(enc.model.stages_3.blocks[1].mlp.fc2.weight,
                               src.model.stages_3.blocks[1].mlp.fc2.weight)
    with pytest.raises(CheckpointError, match="under prefix 'encoder.'"):
        ConvNeXtV2Encoder('atto', checkpoint=str(path), checkpoint_prefix='encoder.')


def test_paper_loss_is_045_bce_045_boundary_dice_010_focal_tversky():
    from mmengine.config import Config
    from mmengine.structures import PixelData
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample
    from mmseg.utils import register_all_modules

    from lszoo.models.losses import BoundaryDiceLoss, FocalTverskyLoss

    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/models/geonext.py'))
    head_cfg = cfg.model.decode_head
    head_cfg.in_channels = [40, 80, 160, 320]
    head = MODELS.build(head_cfg)
    torch.manual_seed(0)
    logits = torch.randn(2, 1, 16, 16)
    label = (torch.rand(2, 16, 16) > 0.7).long()
    label[0, :2] = 255
    samples = []
    for lab in label:
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=lab[None])
        samples.append(s)
    losses = head.loss_by_feat(logits, samples)
    valid = label != 255
    bce = F.binary_cross_entropy_with_logits(logits[:, 0][valid], label[valid].float())
    torch.testing.assert_close(losses['loss_bce'], 0.45 * bce)
    bd = BoundaryDiceLoss(lam=0.1, gamma=1.0, smooth=1.0, per_image=True)(logits, label)
    torch.testing.assert_close(losses['loss_boundary_dice'], 0.45 * bd)
    ft = FocalTverskyLoss(alpha=1.0, beta=0.7, gamma=2.0, smooth=1.0, per_image=True)(logits,
                                                                                       label)
    torch.testing.assert_close(losses['loss_focal_tversky'], 0.10 * ft)
