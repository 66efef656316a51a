"""N-band transforms: normalisation, rot90, optical-only photometric changes, the mmcv/mmseg
geometric transforms reused on 15-band float images, georeferencing and packing."""
import warnings

import numpy as np
import pytest
import rasterio
from mmengine.registry import init_default_scope
from mmseg.registry import TRANSFORMS
from rasterio.transform import from_origin

import lszoo  # noqa: F401
from lszoo.datasets.transforms import (LANDSLIDE_META_KEYS, LoadLandslideSample, NormalizeBands,
                                       OpticalPhotometric, RandomRot90)
from lszoo.errors import ConfigError

init_default_scope('mmseg')


def _sample(h=6, w=4, c=15, seed=0):
    rng = np.random.default_rng(seed)
    img = rng.uniform(0, 5, (h, w, c)).astype(np.float32)
    mask = (rng.uniform(size=(h, w)) > 0.5).astype(np.uint8)
    # channel 0 carries the mask so that geometric alignment can be checked after any change
    img[..., 0] = mask
    return dict(img=img, gt_seg_map=mask, seg_fields=['gt_seg_map'], img_shape=(h, w),
                ori_shape=(h, w), band_names=[f'b{i}' for i in range(c)],
                stream_layout={'optical': list(range(c - 2)), 'topo': [c - 2, c - 1]})


def test_normalize_meanstd_by_name_and_by_list():
    img = np.array([[[1.0, 10.0], [3.0, 30.0]]], np.float32)  # 1 x 2 x 2
    r = NormalizeBands(mean=dict(DEM=20.0, B2=2.0, unused=9), std=dict(B2=2.0, DEM=10.0))(
        dict(img=img, band_names=['B2', 'DEM']))
    np.testing.assert_allclose(r['img'], [[[-0.5, -1.0], [0.5, 1.0]]])
    r = NormalizeBands(mean=[2.0, 20.0], std=[2.0, 10.0])(dict(img=img.copy(),
                                                               band_names=['B2', 'DEM']))
    np.testing.assert_allclose(r['img'], [[[-0.5, -1.0], [0.5, 1.0]]])
    assert r['img'].dtype == np.float32
    with pytest.raises(ConfigError, match=r"no mean for bands \['NDVI'\]"):
        NormalizeBands(mean=dict(B2=0), std=dict(B2=1, NDVI=1))(
            dict(img=np.zeros((2, 2, 2), np.float32), band_names=['B2', 'NDVI']))
    with pytest.raises(ConfigError, match=r"3 mean values for an image with 2 bands"):
        NormalizeBands(mean=[0, 0, 0], std=[1, 1, 1])(
            dict(img=np.zeros((2, 2, 2), np.float32), band_names=['B2', 'DEM']))
    with pytest.raises(ConfigError, match='needs `mean` and `std`'):
        NormalizeBands(mode='meanstd')


def test_normalize_minmax_and_scale():
    img = np.zeros((2, 3, 2), np.float32)
    img[..., 0] = [[2, 4, 6], [8, 10, 12]]
    img[..., 1] = 7.0  # constant band
    r = NormalizeBands(mode='minmax')(dict(img=img.copy(), band_names=['a', 'b']))
    np.testing.assert_allclose(r['img'][..., 0], [[0, 0.2, 0.4], [0.6, 0.8, 1.0]], atol=1e-6)
    np.testing.assert_array_equal(r['img'][..., 1], 0)
    r = NormalizeBands(mode='scale', scale=255)(dict(img=np.full((1, 1, 3), 51, np.uint8)))
    np.testing.assert_allclose(r['img'], 0.2, rtol=1e-6)
    with pytest.raises(ConfigError, match="mode must be"):
        NormalizeBands(mode='zscore')


def test_random_rot90_keeps_image_and_mask_aligned():
    np.random.seed(0)
    t = RandomRot90(prob=1.0)
    seen = set()
    for _ in range(12):
        s = _sample()
        before = s['img'].copy()
        r = t(s)
        k = r['rot90_k']
        seen.add(k)
        np.testing.assert_array_equal(r['img'], np.rot90(before, k, axes=(0, 1)))
        np.testing.assert_array_equal(r['img'][..., 0], r['gt_seg_map'])
        assert r['img_shape'] == r['img'].shape[:2] == ((4, 6) if k % 2 else (6, 4))
    assert seen == {1, 2, 3}
    s = _sample()
    assert RandomRot90(prob=0.0)(s)['img'].shape == (6, 4, 15) and 'rot90_k' not in s


def test_optical_photometric_leaves_topography_alone():
    np.random.seed(1)
    s = _sample(c=6)
    before = s['img'].copy()
    r = OpticalPhotometric(prob=1.0, brightness=0.2, contrast=0.2, noise_std=0.05,
                           salt_pepper=0.1)(s)
    np.testing.assert_array_equal(r['img'][..., 4:], before[..., 4:])  # topo stream
    assert np.abs(r['img'][..., 1:4] - before[..., 1:4]).mean() > 1e-3
    s2 = _sample(c=6)
    s2.pop('stream_layout')
    with pytest.raises(ConfigError, match='no stream_layout'):
        OpticalPhotometric()(s2)


def test_mmcv_geometric_transforms_handle_15_band_float_images():
    np.random.seed(2)
    flip = TRANSFORMS.build(dict(type='RandomFlip', prob=1.0, direction='vertical'))
    s = _sample(h=8, w=8)
    before = s['img'].copy()
    r = flip(s)
    np.testing.assert_array_equal(r['img'], before[::-1])
    np.testing.assert_array_equal(r['img'][..., 0], r['gt_seg_map'])

    crop = TRANSFORMS.build(dict(type='RandomCrop', crop_size=(5, 3)))
    r = crop(_sample(h=8, w=8))
    assert r['img'].shape == (5, 3, 15) and r['gt_seg_map'].shape == (5, 3)
    np.testing.assert_array_equal(r['img'][..., 0], r['gt_seg_map'])

    resize = TRANSFORMS.build(dict(type='Resize', scale=(16, 12), keep_ratio=False))
    s = _sample(h=6, w=8)
    s['img'][..., 5] = np.arange(8, dtype=np.float32)[None, :] * 2  # a linear ramp
    r = resize(s)
    assert r['img'].shape == (12, 16, 15) and r['img'].dtype == np.float32
    assert r['gt_seg_map'].shape == (12, 16)
    assert set(np.unique(r['gt_seg_map'])) <= {0, 1}  # nearest: no new mask values
    ramp = r['img'][0, :, 5]
    assert np.all(np.diff(ramp) >= 0) and len(np.unique(ramp)) > 8  # bilinear: new values


def test_loader_keeps_georeferencing_and_pack_carries_the_contract(tmp_path):
    path = tmp_path / 'geo.tif'
    transform = from_origin(500000.0, 4100000.0, 10.0, 10.0)
    with rasterio.open(path, 'w', driver='GTiff', width=4, height=3, count=3, dtype='uint8',
                       crs='EPSG:32633', transform=transform) as dst:
        dst.write(np.arange(36, dtype=np.uint8).reshape(3, 3, 4))
    mask = tmp_path / 'mask.tif'
    with rasterio.open(mask, 'w', driver='GTiff', width=4, height=3, count=1, dtype='uint8',
                       crs='EPSG:32633', transform=transform) as dst:
        dst.write(np.array([[[0, 1, 1, 0], [0, 0, 1, 1], [1, 0, 0, 0]]], np.uint8))
    info = dict(sources=[dict(path=str(path), kind='raster', bands=3, role='image')],
                band_index=[2, 0], band_names=['B', 'R'], stream_layout={'optical': [0, 1]},
                seg_map_path=str(mask), mask_kind='raster', mask_map={0: 0, 1: 1})
    r = LoadLandslideSample()(dict(info))
    assert r['crs'] == 'EPSG:32633'
    assert r['transform'] == (10.0, 0.0, 500000.0, 0.0, -10.0, 4100000.0)
    np.testing.assert_array_equal(r['img'][..., 0], np.arange(24, 36).reshape(3, 4))
    pack = TRANSFORMS.build(dict(type='PackSegInputs', meta_keys=LANDSLIDE_META_KEYS))
    out = pack(r)
    assert out['inputs'].shape == (2, 3, 4) and out['inputs'].dtype.is_floating_point
    meta = out['data_samples'].metainfo
    assert meta['band_names'] == ['B', 'R'] and meta['stream_layout'] == {'optical': [0, 1]}
    assert meta['crs'] == 'EPSG:32633'
    assert out['data_samples'].gt_sem_seg.data.sum().item() == 5

    png = tmp_path / 'plain.png'
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with rasterio.open(png, 'w', driver='PNG', width=4, height=3, count=3,
                           dtype='uint8') as dst:
            dst.write(np.zeros((3, 3, 4), np.uint8))
    info['sources'] = [dict(path=str(png), kind='raster', bands=3, role='image')]
    info['seg_map_path'] = None
    r = LoadLandslideSample()(dict(info))
    assert 'crs' not in r and 'transform' not in r and 'gt_seg_map' not in r
