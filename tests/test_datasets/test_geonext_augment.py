"""GeoNeXt's training augmentations on N-band float images: mmseg's RandomFlip (p=0.35) and
RandomRotate (+-8 degrees, every sample), lszoo's BandColorJitter and RandomElasticDeform."""
import numpy as np
import pytest
import torch
from mmseg.registry import TRANSFORMS

import lszoo  # noqa: F401  (registers the transforms)
from lszoo.errors import ConfigError


def sample(h=32, w=40, bands=5, seed=0):
    rng = np.random.default_rng(seed)
    img = rng.uniform(0.1, 0.9, (h, w, bands)).astype(np.float32)
    mask = np.zeros((h, w), np.uint8)
    mask[8:20, 10:30] = 1
    return dict(img=img, gt_seg_map=mask, seg_fields=['gt_seg_map'], img_shape=(h, w),
                ori_shape=(h, w))


def build(cfg):
    return TRANSFORMS.build(cfg)


def test_hflip_p035_on_n_bands():
    t = build(dict(type='RandomFlip', prob=0.35, direction='horizontal'))
    np.random.seed(0)
    flips = 0
    for _ in range(400):
        s = sample()
        out = t(dict(s))
        if out['flip']:
            flips += 1
            np.testing.assert_array_equal(out['img'], s['img'][:, ::-1])
            np.testing.assert_array_equal(out['gt_seg_map'], s['gt_seg_map'][:, ::-1])
    assert 0.28 < flips / 400 < 0.42


def test_rotation_within_8_degrees_every_sample():
    t = build(dict(type='RandomRotate', prob=1.0, degree=8, pad_val=0, seg_pad_val=0))
    np.random.seed(1)
    for _ in range(10):
        s = sample()
        s['img'][..., 1] = 2 * s['img'][..., 0]  # every band goes through the same warp
        out = t(dict(s))
        assert out['img'].shape == s['img'].shape and out['img'].dtype == np.float32
        assert not np.allclose(out['img'], s['img'])  # rotated on every sample
        np.testing.assert_allclose(out['img'][..., 1], 2 * out['img'][..., 0], atol=1e-5)
        assert set(np.unique(out['gt_seg_map'])) <= {0, 1}  # nearest, corners padded with 0
        # a rotation of at most 8 degrees moves the mask's centroid column by little
        ys, xs = np.nonzero(out['gt_seg_map'])
        assert abs(xs.mean() - 19.5) < 3 and abs(ys.mean() - 13.5) < 3


def test_color_jitter_brightness_changes_rgb_only_every_sample():
    t = build(dict(type='BandColorJitter', brightness=0.06, contrast=0, saturation=0, hue=0))
    np.random.seed(2)
    factors = []
    for _ in range(50):
        s = sample()
        out = t(dict(s))
        ratio = out['img'][..., :3] / s['img'][..., :3]
        assert np.ptp(ratio) < 1e-5  # one factor for R, G and B
        factors.append(float(ratio.mean()))
        np.testing.assert_array_equal(out['img'][..., 3:], s['img'][..., 3:])  # DEM etc.
        np.testing.assert_array_equal(out['gt_seg_map'], s['gt_seg_map'])
    assert min(factors) >= 0.94 - 1e-6 and max(factors) <= 1.06 + 1e-6
    assert all(abs(f - 1) > 1e-7 for f in factors)  # applied to every sample (prob 1)


def test_color_jitter_saturation_hue_keep_grey_pixels_and_stay_in_range():
    t = build(dict(type='BandColorJitter', brightness=0, contrast=0, saturation=0.06,
                   hue=0.02))
    s = sample()
    s['img'][..., 1] = s['img'][..., 2] = s['img'][..., 0]  # grey: no saturation, no hue
    np.random.seed(3)
    out = t(dict(s))
    np.testing.assert_allclose(out['img'], s['img'], atol=1e-5)
    colour = sample(seed=4)
    full = build(dict(type='BandColorJitter', brightness=0.06, contrast=0.06, saturation=0.06,
                      hue=0.02, rgb_channels=(2, 1, 0)))
    out = full(dict(colour))
    assert not np.allclose(out['img'][..., :3], colour['img'][..., :3])
    assert out['img'][..., :3].min() >= 0 and out['img'][..., :3].max() <= 1
    with pytest.raises(ConfigError, match='rgb_channels'):
        full(dict(img=np.zeros((4, 4, 2), np.float32)))
    with pytest.raises(ConfigError, match='hue'):
        build(dict(type='BandColorJitter', hue=0.7))


def test_elastic_moves_image_and_mask_together():
    t = build(dict(type='RandomElasticDeform', alpha=85, sigma=4.5, prob=1.0))
    torch.manual_seed(0)
    np.random.seed(0)
    s = sample(64, 64)
    s['img'][..., 0] = s['gt_seg_map']
    s['img'][..., 1] = 0.5 * s['gt_seg_map']
    out = t(dict(s))
    assert out['img'].shape == s['img'].shape and out['img'].dtype == np.float32
    assert not np.array_equal(out['gt_seg_map'], s['gt_seg_map'])  # deformed
    assert set(np.unique(out['gt_seg_map'])) <= {0, 1}
    np.testing.assert_allclose(out['img'][..., 1], 0.5 * out['img'][..., 0], atol=1e-6)
    # the band that was the mask is warped by the same field: it agrees with the warped mask
    assert np.abs(out['img'][..., 0] - out['gt_seg_map']).mean() < 0.05
    # alpha 0 is the identity
    same = build(dict(type='RandomElasticDeform', alpha=0, sigma=4.5, prob=1.0))(dict(s))
    np.testing.assert_allclose(same['img'], s['img'], atol=1e-5)


def test_elastic_probability():
    t = build(dict(type='RandomElasticDeform', prob=0.2))
    np.random.seed(5)
    torch.manual_seed(5)
    hits = 0
    for _ in range(200):
        s = sample(24, 24)
        hits += not np.array_equal(t(dict(s))['img'], s['img'])
    assert 0.12 < hits / 200 < 0.28
    with pytest.raises(ConfigError, match='too small'):
        build(dict(type='RandomElasticDeform', prob=1.0))(sample(16, 16))
