"""Date-aware pipeline: geometric transforms move both dates and the mask identically,
photometric ones are drawn per date, the pre image can be misregistered, and a pixel missing
in either date is ignored."""
import numpy as np
import pytest

LAYOUT = {'post': [0, 1, 2], 'pre': [3, 4, 5]}


def _build(cfg):
    from mmseg.registry import TRANSFORMS
    return TRANSFORMS.build(cfg)


def _sample(seed=0, size=32):
    rng = np.random.default_rng(seed)
    post = rng.random((size, size, 3)).astype(np.float32)
    mask = (post[..., 0] > 0.5).astype(np.uint8)
    img = np.concatenate([post, post], axis=2)  # pre identical to post
    return dict(img=img, gt_seg_map=mask, seg_fields=['gt_seg_map'], img_shape=(size, size),
                ori_shape=(size, size), stream_layout=dict(LAYOUT),
                band_names=['R', 'G', 'B', 'pre_R', 'pre_G', 'pre_B'])


@pytest.mark.parametrize('cfg', [
    dict(type='RandomFlip', prob=1.0, direction=['horizontal', 'vertical']),
    dict(type='RandomRot90', prob=1.0),
    dict(type='RandomCrop', crop_size=(16, 16)),
])
def test_geometric_transforms_move_both_dates_and_mask_together(cfg):
    np.random.seed(0)
    t = _build(cfg)
    for k in range(5):
        out = t(_sample(k))
        img = out['img']
        np.testing.assert_array_equal(img[..., :3], img[..., 3:])
        np.testing.assert_array_equal(out['gt_seg_map'], (img[..., 0] > 0.5).astype(np.uint8))


def test_photometric_changes_are_drawn_per_date():
    np.random.seed(0)
    t = _build(dict(type='DatewisePhotometric', streams=['post', 'pre'], prob=1.0,
                    brightness=0.2, contrast=0.2, band_gain=0.1))
    differ = 0
    for k in range(5):
        s = _sample(k)
        before = s['img'].copy()
        out = t(s)['img']
        assert not np.allclose(out[..., :3], before[..., :3])
        assert not np.allclose(out[..., 3:], before[..., 3:])
        differ += not np.allclose(out[..., :3], out[..., 3:])
    assert differ == 5  # same input in both dates, different draws


def test_photometric_on_one_date_leaves_the_other():
    np.random.seed(0)
    t = _build(dict(type='DatewisePhotometric', streams=['post'], prob=1.0))
    s = _sample()
    pre = s['img'][..., 3:].copy()
    np.testing.assert_array_equal(t(s)['img'][..., 3:], pre)


def test_misregistration_shifts_only_the_pre_date():
    np.random.seed(0)
    t = _build(dict(type='RandomMisregistration', stream='pre', max_shift=2.0, prob=1.0))
    s = _sample()
    post, mask, pre = s['img'][..., :3].copy(), s['gt_seg_map'].copy(), s['img'][..., 3:].copy()
    out = t(s)
    np.testing.assert_array_equal(out['img'][..., :3], post)
    np.testing.assert_array_equal(out['gt_seg_map'], mask)
    assert not np.allclose(out['img'][..., 3:], pre)
    dy, dx = out['misregistration']
    assert abs(dy) <= 2 and abs(dx) <= 2


def test_transforms_name_a_missing_stream():
    from lszoo.errors import ConfigError
    s = _sample()
    s['stream_layout'] = {'optical': [0, 1, 2]}
    with pytest.raises(ConfigError, match="no stream 'pre'"):
        _build(dict(type='RandomMisregistration', prob=1.0))(s)


def _write(path, arr, nodata=None):
    import rasterio
    path.parent.mkdir(parents=True, exist_ok=True)
    a = arr if arr.ndim == 3 else arr[..., None]
    with rasterio.open(path, 'w', driver='GTiff', width=a.shape[1], height=a.shape[0],
                       count=a.shape[2], dtype=a.dtype, nodata=nodata) as dst:
        dst.write(np.moveaxis(a, -1, 0))


def test_nodata_of_either_date_is_ignored(tmp_path):
    post = np.full((8, 8, 3), 100, np.uint8)
    post[0, :] = 0  # black border of the post scene
    pre = np.full((8, 8, 3), 90, np.float32)
    pre[5, 5, 1] = np.nan  # a hole in one band of the pre scene
    _write(tmp_path / 'post.tif', post)
    _write(tmp_path / 'pre.tif', pre)
    _write(tmp_path / 'ref.tif', np.ones((8, 8), np.uint8))
    results = dict(sources=[dict(path=str(tmp_path / 'post.tif'), kind='raster', bands=3),
                            dict(path=str(tmp_path / 'pre.tif'), kind='raster', bands=3,
                                 role='pre')],
                   band_index=list(range(6)), seg_map_path=str(tmp_path / 'ref.tif'),
                   mask_map={0: 0, 1: 1}, stream_layout=dict(LAYOUT))
    with pytest.warns(UserWarning, match='NaN/nodata'):
        out = _build(dict(type='LoadBitemporalSample', nodata_value=0))(dict(results))
    seg = out['gt_seg_map']
    assert (seg[0] == 255).all() and seg[5, 5] == 255
    assert (seg[1:5] == 1).all() and np.isfinite(out['img']).all()
    # without nodata_value only the NaN is ignored
    seg = _build(dict(type='LoadBitemporalSample'))(dict(results))['gt_seg_map']
    assert seg[5, 5] == 255 and (seg[0] == 1).all()
