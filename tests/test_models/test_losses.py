"""Binary losses: hand-computed values, 1- vs 2-channel agreement, ignore index, gradients."""
import math

import pytest
import torch

import lszoo  # noqa: F401  (registers the losses)
from lszoo.errors import ConfigError, DataError
from lszoo.models.losses import (BinaryCrossEntropyLoss, BinaryDiceLoss, BinaryTverskyLoss,
                                 BoundaryDiceLoss, FocalTverskyLoss)
from mmseg.registry import MODELS


def logit(p):
    return math.log(p / (1 - p))


def batch():
    """Two 1x4 images. Probabilities and labels (255 = ignored):
    A: p = .8 .2 .6 .5   t = 1 0 1 0   -> TP 1.4, FP 0.7, FN 0.6
    B: p = .9 .1 .3 .7   t = 0 0 1 255 -> TP 0.3, FP 1.0, FN 0.7 (last pixel ignored)
    whole batch: TP 1.7, FP 1.7, FN 1.3; sum p (valid) 3.4, sum t 3
    """
    probs = [[0.8, 0.2, 0.6, 0.5], [0.9, 0.1, 0.3, 0.7]]
    pred = torch.tensor([[[[logit(p) for p in row]]] for row in probs], dtype=torch.float64)
    target = torch.tensor([[[1, 0, 1, 0]], [[0, 0, 1, 255]]])
    return pred, target  # (2, 1, 1, 4), (2, 1, 4)


def two_channel(pred):
    """(N, 2, H, W) logits whose softmax class-1 probability equals sigmoid(pred)."""
    return torch.cat([torch.zeros_like(pred), pred], dim=1)


ALL_LOSSES = [
    dict(type='BinaryTverskyLoss'),
    dict(type='BinaryTverskyLoss', per_image=True, smooth=1.0),
    dict(type='BinaryDiceLoss'),
    dict(type='FocalTverskyLoss', alpha=1.0, beta=0.7, gamma=2.0, per_image=True),
    dict(type='BoundaryDiceLoss', lam=1.0),
    dict(type='BinaryCrossEntropyLoss'),
]


def test_tversky_whole_batch_and_per_image_by_hand():
    pred, target = batch()
    whole = BinaryTverskyLoss(alpha=0.3, beta=0.7, smooth=0.0)(pred, target)
    assert whole.item() == pytest.approx(1 - 1.7 / (1.7 + 0.3 * 1.7 + 0.7 * 1.3))
    per_image = BinaryTverskyLoss(alpha=0.3, beta=0.7, smooth=0.0, per_image=True)(pred, target)
    ti_a = 1.4 / (1.4 + 0.3 * 0.7 + 0.7 * 0.6)
    ti_b = 0.3 / (0.3 + 0.3 * 1.0 + 0.7 * 0.7)
    assert per_image.item() == pytest.approx(1 - (ti_a + ti_b) / 2)
    # alpha weighs false positives: swapping alpha and beta changes the value as by hand
    swapped = BinaryTverskyLoss(alpha=0.7, beta=0.3, smooth=0.0)(pred, target)
    assert swapped.item() == pytest.approx(1 - 1.7 / (1.7 + 0.7 * 1.7 + 0.3 * 1.3))


def test_dice_and_focal_tversky_by_hand():
    pred, target = batch()
    assert BinaryDiceLoss(smooth=0.0)(pred, target).item() == pytest.approx(1 - 2 * 1.7 / 6.4)
    assert BinaryDiceLoss(smooth=1.0)(pred, target).item() == pytest.approx(1 - 4.4 / 7.4)
    dice_a, dice_b = 2 * 1.4 / (2.1 + 2), 2 * 0.3 / (1.3 + 1)
    assert BinaryDiceLoss(smooth=0.0, per_image=True)(pred, target).item() == pytest.approx(
        1 - (dice_a + dice_b) / 2)
    ti = 1.7 / (1.7 + 0.3 * 1.7 + 0.7 * 1.3)
    focal = FocalTverskyLoss(alpha=0.3, beta=0.7, gamma=2.0, smooth=0.0)(pred, target)
    assert focal.item() == pytest.approx((1 - ti) ** 2)
    focal = FocalTverskyLoss(alpha=0.3, beta=0.7, gamma=0.75, smooth=0.0)(pred, target)
    assert focal.item() == pytest.approx((1 - ti) ** 0.75)


def test_boundary_dice_by_hand():
    # one image, p = 0.5, 0.8; t = 1, 0; lam 1, gamma 1: w = 1.25, 1.16
    pred = torch.tensor([[[[0.0, logit(0.8)]]]], dtype=torch.float64)
    target = torch.tensor([[[1, 0]]])
    loss = BoundaryDiceLoss(lam=1.0, gamma=1.0, smooth=0.0)(pred, target)
    inter = (1.25 * 0.5) * (1.25 * 1)                 # 0.78125
    denom = (1.25 * 0.5 + 1.16 * 0.8) + 1.25 * 1      # 2.803
    assert loss.item() == pytest.approx(1 - 2 * inter / denom)
    # gamma 2: w = 1 + (p(1-p))^2 = 1.0625, 1.0256
    loss = BoundaryDiceLoss(lam=1.0, gamma=2.0, smooth=0.0)(pred, target)
    inter = (1.0625 * 0.5) * 1.0625
    denom = 1.0625 * 0.5 + 1.0256 * 0.8 + 1.0625
    assert loss.item() == pytest.approx(1 - 2 * inter / denom)


def test_boundary_dice_without_boost_is_per_image_dice():
    pred, target = batch()
    plain = BinaryDiceLoss(smooth=1.0, per_image=True)(pred, target)
    assert BoundaryDiceLoss(lam=0.0, smooth=1.0)(pred, target).item() == pytest.approx(
        plain.item())
    # the boost changes the value (the weight is not a no-op)
    assert BoundaryDiceLoss(lam=1.0)(pred, target).item() != pytest.approx(plain.item())


def test_bce_by_hand_and_equal_to_mmseg_one_channel():
    pred, target = batch()
    p = [0.8, 0.2, 0.6, 0.5, 0.9, 0.1, 0.3]
    t = [1, 0, 1, 0, 0, 0, 1]
    expected = -sum(math.log(pi) if ti else math.log(1 - pi) for pi, ti in zip(p, t)) / 7
    assert BinaryCrossEntropyLoss()(pred, target).item() == pytest.approx(expected)
    mmseg_bce = MODELS.build(dict(type='CrossEntropyLoss', use_sigmoid=True,
                                  avg_non_ignore=True))
    assert mmseg_bce(pred, target, ignore_index=255).item() == pytest.approx(expected)


def test_mmseg_bce_crashes_on_all_ignored_batch_ours_returns_zero():
    pred = torch.randn(2, 1, 3, 3, requires_grad=True)
    target = torch.full((2, 3, 3), 255)
    mmseg_bce = MODELS.build(dict(type='CrossEntropyLoss', use_sigmoid=True,
                                  avg_non_ignore=True))
    with pytest.raises(RuntimeError):
        mmseg_bce(pred, target, ignore_index=255)
    for cfg in ALL_LOSSES:
        loss = MODELS.build(cfg)(pred, target)
        assert loss.item() == 0.0, cfg
        loss.backward()
        assert torch.all(pred.grad == 0)
        pred.grad = None


def test_mmseg_dice_scores_background_with_one_channel_ours_does_not():
    pred = torch.full((1, 1, 2, 2), 20.0)  # confident landslide everywhere
    target = torch.ones(1, 2, 2, dtype=torch.long)  # all landslide: a perfect prediction
    assert MODELS.build(dict(type='DiceLoss', use_sigmoid=True))(pred, target).item() == (
        pytest.approx(1.0))
    assert BinaryDiceLoss()(pred, target).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize('cfg', ALL_LOSSES)
def test_one_and_two_channels_agree(cfg):
    pred, target = batch()
    loss = MODELS.build(cfg)
    assert loss(two_channel(pred), target).item() == pytest.approx(loss(pred, target).item())
    # label given as (N, 1, H, W) is accepted too
    assert loss(pred, target[:, None]).item() == pytest.approx(loss(pred, target).item())


@pytest.mark.parametrize('cfg', ALL_LOSSES)
def test_ignored_pixels_have_no_effect_and_no_gradient(cfg):
    pred, target = batch()
    loss = MODELS.build(cfg)
    changed = pred.clone()
    changed[1, 0, 0, 3] = -7.0  # the ignored pixel
    assert loss(changed, target).item() == pytest.approx(loss(pred, target).item())
    pred.requires_grad_(True)
    loss(pred, target).backward()
    assert pred.grad[1, 0, 0, 3] == 0
    assert torch.all(pred.grad[0] != 0)


@pytest.mark.parametrize('cfg', ALL_LOSSES)
@pytest.mark.parametrize('channels', [1, 2])
def test_gradients_finite_on_saturated_logits(cfg, channels):
    torch.manual_seed(0)
    pred = (torch.randn(2, channels, 8, 8) * 60).requires_grad_(True)
    target = torch.randint(0, 2, (2, 8, 8))
    target[0, :2] = 255
    value = MODELS.build(cfg)(pred, target)
    value.backward()
    assert torch.isfinite(value)
    assert torch.isfinite(pred.grad).all()


def test_loss_descends_under_gradient_steps():
    torch.manual_seed(0)
    target = (torch.rand(1, 8, 8) > 0.6).long()
    pred = torch.zeros(1, 1, 8, 8, requires_grad=True)
    loss = BoundaryDiceLoss(lam=1.0)
    start = loss(pred, target).item()
    opt = torch.optim.Adam([pred], lr=0.5)
    for _ in range(30):
        opt.zero_grad()
        loss(pred, target).backward()
        opt.step()
    assert loss(pred, target).item() < start / 2
    assert torch.equal((pred[:, 0] > 0).long(), target)


def test_weight_argument_scales_pixels():
    pred, target = batch()
    weight = torch.ones(2, 1, 4, dtype=torch.float64)
    weight[1] = 0  # drop image B entirely
    expected = BinaryTverskyLoss(smooth=0.0)(pred[:1], target[:1]).item()
    assert BinaryTverskyLoss(smooth=0.0)(pred, target, weight=weight).item() == pytest.approx(
        expected)


def test_loss_weight_and_names():
    pred, target = batch()
    for cfg, name in [(dict(type='BinaryTverskyLoss'), 'loss_tversky'),
                      (dict(type='BinaryDiceLoss'), 'loss_dice'),
                      (dict(type='FocalTverskyLoss'), 'loss_focal_tversky'),
                      (dict(type='BoundaryDiceLoss'), 'loss_boundary_dice'),
                      (dict(type='BinaryCrossEntropyLoss'), 'loss_bce')]:
        one = MODELS.build(cfg)
        half = MODELS.build(dict(cfg, loss_weight=0.5, loss_name='loss_x'))
        assert one.loss_name == name and half.loss_name == 'loss_x'
        assert half(pred, target).item() == pytest.approx(0.5 * one(pred, target).item())


def test_bad_input_messages():
    pred, target = batch()
    with pytest.raises(ConfigError, match=r'\(N, 1, H, W\).*got \(2, 3, 1, 4\)'):
        BinaryDiceLoss()(torch.zeros(2, 3, 1, 4), target)
    bad = target.clone()
    bad[0, 0, 0] = 2
    with pytest.raises(DataError, match=r'found \[2\]'):
        BinaryTverskyLoss()(pred, bad)
    with pytest.raises(DataError, match='does not match'):
        BinaryTverskyLoss()(pred, target[:, :, :3])


def test_geonext_loss_list_in_an_mmseg_head():
    """The GeoNeXt combination as documented in docs/metrics.md, inside mmseg's head."""
    loss_decode = [
        dict(type='BinaryCrossEntropyLoss', loss_weight=0.45),
        dict(type='BoundaryDiceLoss', loss_weight=0.45),
        dict(type='FocalTverskyLoss', alpha=1.0, beta=0.7, gamma=2.0, smooth=1.0,
             per_image=True, loss_weight=0.10),
    ]
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    head = MODELS.build(dict(type='FCNHead', in_channels=4, channels=4, num_convs=1,
                             num_classes=2, out_channels=1, threshold=0.5,
                             loss_decode=loss_decode))
    torch.manual_seed(0)
    logits = torch.randn(2, 1, 8, 8, requires_grad=True)
    samples = []
    for _ in range(2):
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=torch.randint(0, 2, (1, 8, 8)))
        samples.append(s)
    losses = head.loss_by_feat(logits, samples)
    label = torch.stack([s.gt_sem_seg.data[0] for s in samples])
    assert losses['loss_bce'].item() == pytest.approx(
        0.45 * BinaryCrossEntropyLoss()(logits, label).item())
    assert losses['loss_boundary_dice'].item() == pytest.approx(
        0.45 * BoundaryDiceLoss()(logits, label).item())
    assert losses['loss_focal_tversky'].item() == pytest.approx(0.10 * FocalTverskyLoss(
        alpha=1.0, beta=0.7, gamma=2.0, smooth=1.0, per_image=True)(logits, label).item())
    sum(v for k, v in losses.items() if k.startswith('loss_')).backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
