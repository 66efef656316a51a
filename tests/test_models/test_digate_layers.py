"""DiGATe-UNet blocks: output shapes, hand-checked values and gradient flow."""
import pytest
import torch

from lszoo.models.layers.attention_gate import AttentionGate
from lszoo.models.layers.conv_blocks import DoubleConv
from lszoo.models.layers.cross_attention_up import CrossAttentionUp
from lszoo.models.layers.gated_fusion import GatedFusion
from lszoo.models.layers.gated_skip_up import GatedSkipUp
from lszoo.models.layers.subpixel_upsample import SubPixelUpsample


def assert_all_params_get_grad(module):
    missing = [n for n, p in module.named_parameters() if p.grad is None or not p.grad.abs().sum()]
    assert not missing, f'no gradient reached {missing}'


def test_subpixel_upsample_shape_and_grad():
    up = SubPixelUpsample(8, 4)
    x = torch.randn(2, 8, 5, 7, requires_grad=True)
    y = up(x)
    assert y.shape == (2, 4, 10, 14)
    y.square().mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert_all_params_get_grad(up)
    assert SubPixelUpsample(8, 4, scale_factor=3)(torch.randn(1, 8, 2, 3)).shape == (1, 4, 6, 9)
    with pytest.raises(ValueError, match='scale_factor'):
        SubPixelUpsample(8, 4, scale_factor=1.5)


def test_subpixel_upsample_places_each_subchannel_hand_computed():
    # 1 -> 1 channel, no norm/act: output pixel (2i+di, 2j+dj) = w[2*di+dj] * x[i, j]
    up = SubPixelUpsample(1, 1, norm_cfg=None, act_cfg=None)
    w = torch.tensor([1., 2., 3., 4.])
    with torch.no_grad():
        up.conv.conv.weight.copy_(w.view(4, 1, 1, 1))
    x = torch.tensor([[[[1., 10.]]]])  # 1x2
    y = up(x)[0, 0]
    expected = torch.tensor([[1., 2., 10., 20.],
                             [3., 4., 30., 40.]])
    assert torch.equal(y, expected)
    assert up.conv.conv.bias is None  # 1x1 conv without bias, as in the paper


def test_double_conv_shape_params_grad():
    block = DoubleConv(4, 8)
    # two 3x3 convs without bias + two one-group GroupNorms (weight and bias each)
    assert sum(p.numel() for p in block.parameters()) == 4 * 8 * 9 + 16 + 8 * 8 * 9 + 16
    y = block(torch.randn(2, 4, 6, 6))
    assert y.shape == (2, 8, 6, 6) and (y >= 0).all()  # ends with ReLU
    y.mean().backward()
    assert_all_params_get_grad(block)


def test_attention_gate_scales_skip_by_a_map_in_0_1():
    gate = AttentionGate(6, 4, 2)
    g = torch.randn(2, 6, 8, 8, requires_grad=True)
    x = torch.randn(2, 4, 8, 8, requires_grad=True)
    y = gate(g, x)
    assert y.shape == x.shape
    psi = gate.attention(g, x)
    assert psi.shape == (2, 1, 8, 8) and ((psi > 0) & (psi < 1)).all()
    assert torch.allclose(y, psi * x)
    y.sum().backward()
    assert g.grad.abs().sum() > 0 and x.grad.abs().sum() > 0
    assert_all_params_get_grad(gate)
    # the one-channel logit is batch-normalised without affine parameters
    assert not gate.psi[2].affine
    with pytest.raises(ValueError, match='same height and width'):
        gate(torch.randn(2, 6, 4, 4), x)
    assert AttentionGate(2, 2, 0).proj_g.conv.out_channels == 1  # inter at least 1


def test_gated_fusion_hand_computed():
    fuse = GatedFusion(3)
    a = torch.full((1, 3, 2, 2), 2.0)
    b = torch.full((1, 3, 2, 2), -1.0)
    with torch.no_grad():
        fuse.gate.weight.zero_()
        fuse.gate.bias.fill_(0.0)  # alpha = 0.5 everywhere
    out, reg = fuse(a, b)
    assert torch.allclose(out, torch.full_like(a, 0.5))  # 0.5*2 + 0.5*(-1)
    assert reg.item() == pytest.approx(0.25)  # the maximum of alpha(1-alpha)
    with torch.no_grad():
        fuse.gate.bias.fill_(torch.logit(torch.tensor(0.8)).item())
    out, reg = fuse(a, b)
    assert torch.allclose(out, torch.full_like(a, 0.8 * 2 - 0.2))
    assert reg.item() == pytest.approx(0.8 * 0.2)
    assert sum(p.numel() for p in fuse.parameters()) == 6 + 1  # 1x1 conv 2C -> 1 with bias


def test_gated_fusion_grad_and_reg_pushes_alpha_away_from_half():
    fuse = GatedFusion(4)
    a = torch.randn(2, 4, 5, 5, requires_grad=True)
    b = torch.randn(2, 4, 5, 5, requires_grad=True)
    out, reg = fuse(a, b)
    assert out.shape == a.shape and reg.dim() == 0 and 0 <= reg.item() <= 0.25
    (out.sum() + reg).backward()
    assert a.grad.abs().sum() > 0 and b.grad.abs().sum() > 0
    assert_all_params_get_grad(fuse)
    with pytest.raises(ValueError, match='same shape'):
        fuse(a, b[:, :, :4])


def test_cross_attention_up_shape_grad_and_padding():
    block = CrossAttentionUp(dec_channels=32, skip_channels=16, out_channels=8)
    dec = torch.randn(2, 32, 4, 4, requires_grad=True)
    skip = torch.randn(2, 16, 8, 8, requires_grad=True)
    y = block(dec, skip)
    assert y.shape == (2, 8, 8, 8)
    y.mean().backward()
    assert dec.grad.abs().sum() > 0 and skip.grad.abs().sum() > 0
    assert_all_params_get_grad(block)
    # an odd skip size (9x9 from a 4x4 decoder map) is reached by zero padding
    assert block(torch.randn(1, 32, 4, 4), torch.randn(1, 16, 9, 9)).shape == (1, 8, 9, 9)
    # widths of the paper's block: q/k/v 1x1 projections to E = out, 2 heads, MLP ratio 2
    assert block.block.attn.num_heads == 2
    assert block.block.mlp[0].out_features == 16


def test_cross_attention_up_attends_to_skip_content():
    # keys/values come from the skip map: changing the skip changes every output pixel
    torch.manual_seed(0)
    block = CrossAttentionUp(16, 8, 8).eval()
    dec = torch.randn(1, 16, 2, 2)
    skip = torch.randn(1, 8, 4, 4)
    y1 = block(dec, skip)
    skip2 = skip.clone()
    skip2[..., 0, 0] += 5.0  # one skip pixel only
    y2 = block(dec, skip2)
    changed = (y1 - y2).abs().sum(1)[0] > 1e-6
    assert changed.float().mean() > 0.5  # not only the pixel at (0, 0): attention is global


def test_gated_skip_up_shape_and_grad():
    block = GatedSkipUp(dec_channels=16, skip_channels=12, out_channels=6)
    assert block.gate.proj_g.conv.out_channels == min(8, 12) // 4
    dec = torch.randn(2, 16, 3, 3, requires_grad=True)
    skip = torch.randn(2, 12, 6, 6, requires_grad=True)
    y = block(dec, skip)
    assert y.shape == (2, 6, 6, 6)
    y.mean().backward()
    assert dec.grad.abs().sum() > 0 and skip.grad.abs().sum() > 0
    assert_all_params_get_grad(block)
