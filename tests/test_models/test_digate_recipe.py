"""DiGATe-UNet trained as its reference code does: PyTorch-default decoder initialisation, the
Tversky loss at 0 on batches without landslide (smp), independent noise on each DEM copy and
per-channel salt-and-pepper, and the Bijie config's recipe values."""
import math
import os.path as osp

import numpy as np
import pytest
import torch
from helpers import REPO
from mmcv.cnn import ConvModule
from mmengine.config import Config
from mmseg.registry import MODELS, TRANSFORMS

import lszoo  # noqa: F401
from lszoo.models.decode_heads.digate_head import DiGATeHead

BIJIE = osp.join(REPO, 'configs', 'digate_unet', 'digate_unet_bijie.py')


def default_std(conv):
    """Std of PyTorch's default conv init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    fan_in = conv.weight[0].numel()
    return 1 / math.sqrt(3 * fan_in)


def test_decoder_convs_start_from_pytorch_default_init():
    torch.manual_seed(0)
    head = DiGATeHead(num_classes=2, out_channels=1, threshold=0.5)
    head.init_weights()  # what mmengine's runner calls: must not bring mmcv's kaiming back
    convs = [m.conv for m in head.modules() if isinstance(m, ConvModule)]
    assert len(convs) == 35  # the decoder convolutions the issue counts
    for conv in convs + [head.conv_seg]:
        if conv.weight.numel() >= 2000:
            assert conv.weight.std().item() == pytest.approx(default_std(conv), rel=0.15)
    # mmseg would give conv_seg std 0.01; the reference's head conv has the default
    assert head.conv_seg.weight.abs().max().item() <= 1 / math.sqrt(
        head.conv_seg.weight[0].numel()) + 1e-6


def test_tversky_is_zero_on_an_all_background_batch_like_the_reference():
    logits = torch.randn(2, 1, 8, 8, requires_grad=True)
    empty = torch.zeros(2, 8, 8, dtype=torch.long)
    ref_like = MODELS.build(dict(type='BinaryTverskyLoss', alpha=0.3, beta=0.7,
                                 ignore_empty=True))
    plain = MODELS.build(dict(type='BinaryTverskyLoss', alpha=0.3, beta=0.7))
    loss = ref_like(logits, empty)
    assert loss.item() == 0.0
    loss.backward()
    assert logits.grad.abs().sum().item() == 0.0
    assert plain(logits, empty).item() > 0.99  # lszoo's default: about 1
    target = empty.clone()
    target[0, 2:5, 2:5] = 1  # with a landslide pixel both agree
    assert ref_like(logits, target).item() == pytest.approx(plain(logits, target).item())
    per_image = MODELS.build(dict(type='BinaryTverskyLoss', per_image=True, ignore_empty=True))
    # image 1 has no landslide: it adds 0, image 0 its own loss; the mean halves it
    single = MODELS.build(dict(type='BinaryTverskyLoss'))(logits[:1], target[:1])
    assert per_image(logits, target).item() == pytest.approx(single.item() / 2, rel=1e-5)


def test_bijie_config_reads_three_dem_copies_and_noises_them_independently():
    cfg = Config.fromfile(BIJIE)
    ds = cfg.train_dataloader.dataset
    assert list(ds.bands) == ['R', 'G', 'B', 'DEM', 'DEM', 'DEM']
    assert list(cfg.model.backbone.stream_channels[1]) == [3, 4, 5]
    noise = [t for t in ds.pipeline if t['type'] == 'RandomGaussianNoise'][0]
    t = TRANSFORMS.build(dict(noise, prob=1.0))
    img = np.random.default_rng(0).uniform(0, 1, (32, 32, 6)).astype(np.float32)
    img[..., 4] = img[..., 5] = img[..., 3]
    np.random.seed(0)
    out = t(dict(img=img))['img']
    d3, d4 = out[..., 3] - img[..., 3], out[..., 4] - img[..., 4]
    assert abs(d3.std() - 0.05) < 0.01 and abs(d4.std() - 0.05) < 0.01
    assert abs(np.corrcoef(d3.ravel(), d4.ravel())[0, 1]) < 0.2  # independent per copy


def test_salt_and_pepper_per_channel_like_the_reference():
    cfg = Config.fromfile(BIJIE)
    sp = [t for t in cfg.train_dataloader.dataset.pipeline if t['type'] == 'RandomSaltPepper'][0]
    assert sp['per_channel'] and sp['amount'] == 0.01
    t = TRANSFORMS.build(dict(sp, prob=1.0))
    img = np.full((100, 100, 3), 0.5, np.float32)
    img[0, 0] = 0.0
    img[0, 1] = 1.0  # band range [0, 1]
    np.random.seed(1)
    out = t(dict(img=img))['img']
    hit = out != img
    for c in range(3):  # about 0.5 % salt and 0.5 % pepper in each channel
        assert 0.005 < hit[..., c].mean() < 0.016
    assert not np.array_equal(hit[..., 0], hit[..., 1])  # positions drawn per channel
    assert set(np.unique(out[hit])) <= {0.0, 1.0}


def test_bijie_recipe_values():
    cfg = Config.fromfile(BIJIE)
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.weight_decay) == ('Adam', 3e-4, 1e-4)
    assert not cfg.param_scheduler  # constant rate
    assert cfg.train_dataloader.batch_size == 32
    assert cfg.train_cfg.max_iters == 100 * 61 and cfg.train_cfg.val_interval == 61
    assert cfg.default_hooks.checkpoint.save_best == 'F1'
    assert cfg.train_dataloader.dataset.split_seed == 42
