"""DiGATe-UNet augmentations on N-band float images: RandomGaussianNoise, RandomSaltPepper,
BandCLAHE (stream restriction, probabilities, amounts, local contrast, reproducibility, errors)."""
import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import TRANSFORMS

import lszoo  # noqa: F401
from lszoo.datasets.transforms import BandCLAHE, RandomGaussianNoise, RandomSaltPepper
from lszoo.errors import ConfigError

init_default_scope('mmseg')

LAYOUT = {'optical': [0, 1, 2], 'topo': [3]}


def _sample(h=32, w=32, seed=0):
    """RGB in [0, 1] + one DEM channel in metres, a 0/1 mask."""
    rng = np.random.default_rng(seed)
    img = rng.uniform(0, 1, (h, w, 4)).astype(np.float32)
    img[..., 3] = rng.uniform(800, 1200, (h, w))
    mask = (rng.uniform(size=(h, w)) > 0.5).astype(np.uint8)
    return dict(img=img, gt_seg_map=mask, seg_fields=['gt_seg_map'],
                band_names=['R', 'G', 'B', 'DEM'], stream_layout=dict(LAYOUT))


def _copy(s):
    return dict(s, img=s['img'].copy(), gt_seg_map=s['gt_seg_map'].copy())


ALL = [
    lambda **kw: RandomGaussianNoise(std=0.1, **kw),
    lambda **kw: RandomSaltPepper(amount=0.2, **kw),
    lambda **kw: BandCLAHE(**kw),
]


@pytest.mark.parametrize('make', ALL, ids=['noise', 'saltpepper', 'clahe'])
def test_prob0_identical_prob1_only_chosen_streams(make):
    s = _sample()
    orig = s['img'].copy()
    r = make(prob=0.0, streams=('optical', ))(_copy(s))
    assert r['img'].dtype == np.float32
    np.testing.assert_array_equal(r['img'], orig)

    inp = _copy(s)
    arr = inp['img']
    r = make(prob=1.0, streams=('optical', ))(inp)
    assert r['img'].dtype == np.float32 and r['img'].shape == orig.shape
    np.testing.assert_array_equal(r['img'][..., 3], orig[..., 3])  # DEM bit-identical
    for c in range(3):
        assert not np.array_equal(r['img'][..., c], orig[..., c]), c
    np.testing.assert_array_equal(r['gt_seg_map'], s['gt_seg_map'])
    # the input array is not written to (in-memory datasets keep their copy)
    np.testing.assert_array_equal(arr, orig)

    r = make(prob=1.0, streams=('topo', ))(_copy(s))
    np.testing.assert_array_equal(r['img'][..., :3], orig[..., :3])
    assert not np.array_equal(r['img'][..., 3], orig[..., 3])


def test_defaults_streams():
    s = _sample()
    orig = s['img'].copy()
    # noise defaults to every channel (as the reference, which adds it to the DEM stream too)
    for t in (RandomGaussianNoise(prob=1), RandomSaltPepper(prob=1, amount=0.2)):
        r = t(_copy(s))
        assert all(not np.array_equal(r['img'][..., c], orig[..., c]) for c in range(4)), t
    # CLAHE defaults to the optical stream only
    r = BandCLAHE(prob=1)(_copy(s))
    np.testing.assert_array_equal(r['img'][..., 3], orig[..., 3])
    assert not np.array_equal(r['img'][..., 0], orig[..., 0])
    # streams=None needs no stream_layout
    s2 = _copy(s)
    del s2['stream_layout']
    assert BandCLAHE(prob=1, streams=None)(s2)['img'].dtype == np.float32


def test_gaussian_noise_std():
    img = np.full((200, 200, 2), 0.5, np.float32)
    np.random.seed(0)
    r = RandomGaussianNoise(prob=1, std=0.05)(dict(img=img.copy()))
    d = r['img'] - img
    assert abs(d.mean()) < 0.002
    np.testing.assert_allclose(d.std(axis=(0, 1)), 0.05, rtol=0.03)
    # a (low, high) range draws the std inside it
    d = RandomGaussianNoise(prob=1, std=(0.2, 0.3))(dict(img=img.copy()))['img'] - img
    assert 0.19 < d.std() < 0.31


def test_salt_pepper_fraction_and_values():
    s = _sample(h=200, w=200)
    orig = s['img'].copy()
    lo, hi = orig.min(axis=(0, 1)), orig.max(axis=(0, 1))
    np.random.seed(1)
    r = RandomSaltPepper(prob=1, amount=0.1, salt_vs_pepper=0.25)(_copy(s))['img']
    changed = np.any(r != orig, axis=2)
    salt = np.all(r == hi, axis=2)
    pepper = np.all(r == lo, axis=2)
    # changed pixels are exactly the salt or pepper ones, all channels together
    np.testing.assert_array_equal(changed, salt | pepper)
    n = changed.size
    assert abs(changed.sum() / n - 0.1) < 0.01
    assert abs(salt.sum() / n - 0.025) < 0.005
    assert abs(pepper.sum() / n - 0.075) < 0.008
    # values stay inside each band's range (for [0, 1] bands salt is 1, pepper 0 at most)
    assert np.all(r >= lo) and np.all(r <= hi)
    # on the optical stream only, the DEM keeps its values at the same pixels
    r = RandomSaltPepper(prob=1, amount=0.1, streams='optical')(_copy(s))['img']
    hit = np.any(r[..., :3] != orig[..., :3], axis=2)
    assert 0.08 < hit.mean() < 0.12
    np.testing.assert_array_equal(r[..., 3], orig[..., 3])
    assert np.all(np.isin(r[hit][:, :3], np.concatenate([lo[:3], hi[:3]])))


def _local_contrast(x, block=8):
    h, w = x.shape
    blocks = x[:h // block * block, :w // block * block].reshape(h // block, block,
                                                                 w // block, block)
    return float(blocks.std(axis=(1, 3)).mean())


def test_clahe_raises_local_contrast_keeps_range():
    # low local contrast: two flat regions far apart (0.1 and 0.9) with faint texture
    rng = np.random.default_rng(0)
    h = w = 64
    base = np.where(np.arange(w)[None, :] < w // 2, 0.1, 0.9) * np.ones((h, 1))
    img = np.zeros((h, w, 4), np.float32)
    for c in range(3):
        img[..., c] = base + 0.02 * rng.standard_normal((h, w))
    img[..., 3] = 1000 + 5 * rng.standard_normal((h, w))
    r = BandCLAHE(prob=1, clip_limit=2.0, tile_grid_size=(4, 4))(
        dict(img=img.copy(), stream_layout=dict(LAYOUT)))['img']
    for c in range(3):
        before, after = _local_contrast(img[..., c]), _local_contrast(r[..., c])
        assert after > 1.5 * before, (c, before, after)
        assert r[..., c].min() >= img[..., c].min() and r[..., c].max() <= img[..., c].max()
    np.testing.assert_array_equal(r[..., 3], img[..., 3])


def test_clahe_matches_opencv_on_unit_range_and_skips_constant():
    # a [0, 1] band on the 8-bit grid: same as cv2 CLAHE on uint8(x * 255) / 255
    rng = np.random.default_rng(3)
    q = rng.integers(0, 256, (40, 48)).astype(np.uint8)
    q[0, 0], q[0, 1] = 0, 255
    x = (q / 255.0).astype(np.float32)
    img = np.stack([x, np.full_like(x, 0.3)], axis=2)  # second band constant
    r = BandCLAHE(prob=1, clip_limit=3.0, tile_grid_size=(2, 3), streams=None)(
        dict(img=img.copy()))['img']
    want = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(3, 2)).apply(q) / 255.0
    np.testing.assert_allclose(r[..., 0], want, atol=1e-6)
    np.testing.assert_array_equal(r[..., 1], img[..., 1])
    # a band in metres comes back in metres, quantised to 256 levels of its range
    dem = (500 + 1000 * x).astype(np.float32)[..., None]
    r = BandCLAHE(prob=1, clip_limit=3.0, tile_grid_size=(2, 3), streams=None)(
        dict(img=dem.copy()))['img'][..., 0]
    np.testing.assert_allclose(r, 500 + 1000 * want, rtol=1e-6)
    # 16-bit works too and keeps the range
    r16 = BandCLAHE(prob=1, streams=None, bit_depth=16)(dict(img=dem.copy()))['img']
    assert r16.dtype == np.float32 and r16.min() >= dem.min() and r16.max() <= dem.max()


@pytest.mark.parametrize('make', ALL, ids=['noise', 'saltpepper', 'clahe'])
def test_reproducible_with_numpy_seed(make):
    s = _sample()
    t = make(prob=0.5, streams=None)
    outs = []
    for seed in (5, 5, 6):
        np.random.seed(seed)
        outs.append([t(_copy(s))['img'] for _ in range(6)])
    for a, b in zip(outs[0], outs[1]):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(outs[0], outs[2]))
    # prob=0.5 applies to some samples and not others
    applied = [not np.array_equal(a, s['img']) for a in outs[0] + outs[2]]
    assert any(applied) and not all(applied)


def test_registry_build_and_pipeline():
    from mmcv.transforms import Compose
    pipe = Compose([
        dict(type='RandomGaussianNoise', prob=1, std=0.05),
        dict(type='RandomSaltPepper', prob=1, amount=0.01),
        dict(type='BandCLAHE', prob=1, streams=['optical']),
    ])
    s = _sample()
    r = pipe(_copy(s))
    assert r['img'].dtype == np.float32 and r['img'].shape == (32, 32, 4)
    np.testing.assert_array_equal(r['gt_seg_map'], s['gt_seg_map'])
    assert isinstance(TRANSFORMS.build(dict(type='BandCLAHE')), BandCLAHE)


def test_errors():
    s = _sample()
    with pytest.raises(ConfigError, match=r"RandomGaussianNoise: stream\(s\) \['sar'\] not in "
                                          r"the sample's stream_layout \(it has \['optical', "
                                          r"'topo'\]\)"):
        RandomGaussianNoise(prob=1, streams=('optical', 'sar'))(_copy(s))
    # checked even when the coin says no, so a typo fails on the first sample
    with pytest.raises(ConfigError, match=r"BandCLAHE: stream\(s\) \['optic'\] not in"):
        BandCLAHE(prob=0, streams=('optic', ))(_copy(s))
    no_layout = _copy(s)
    del no_layout['stream_layout']
    with pytest.raises(ConfigError, match='RandomSaltPepper: .*has no stream_layout'):
        RandomSaltPepper(prob=1, streams=('optical', ))(no_layout)
    with pytest.raises(ConfigError, match=r'expects `img` as an H x W x C array, got shape '
                                          r'\(4, 4\)'):
        RandomGaussianNoise(prob=1)(dict(img=np.zeros((4, 4), np.float32)))
    bad = [
        (lambda: RandomGaussianNoise(prob=1.5), r'RandomGaussianNoise: prob must be a number '
                                                r'in \[0, 1\], got 1.5'),
        (lambda: RandomGaussianNoise(std=-0.1), 'std must be finite with 0 <= low <= high'),
        (lambda: RandomGaussianNoise(std=(0.3, 0.1)), 'std must be finite with 0 <= low'),
        (lambda: RandomGaussianNoise(std='big'), r'std must be a number or a \(low, high\)'),
        (lambda: RandomSaltPepper(amount=2), r'amount must be a number in \[0, 1\], got 2'),
        (lambda: RandomSaltPepper(salt_vs_pepper=-1), 'salt_vs_pepper must be a number'),
        (lambda: RandomSaltPepper(streams=()), 'streams must be None or a non-empty'),
        (lambda: RandomSaltPepper(streams=[1]), 'streams must be None or a non-empty'),
        (lambda: BandCLAHE(clip_limit=0), 'clip_limit must be a finite number > 0, got 0'),
        (lambda: BandCLAHE(tile_grid_size=8), 'tile_grid_size must be two positive integers'),
        (lambda: BandCLAHE(tile_grid_size=(8, 0)), 'tile_grid_size must be two positive'),
        (lambda: BandCLAHE(bit_depth=12), 'bit_depth must be 8 or 16, got 12'),
    ]
    for make, msg in bad:
        with pytest.raises(ConfigError, match=msg):
            make()


def test_on_synthetic_dataset_keeps_cached_scene():
    from lszoo.datasets.synthetic import SyntheticLandslideDataset
    pipe = [dict(type='NormalizeBands', mode='minmax'),
            dict(type='RandomGaussianNoise', prob=1, std=0.05, streams=['optical']),
            dict(type='RandomSaltPepper', prob=1, amount=0.05, streams=['optical']),
            dict(type='BandCLAHE', prob=1)]
    ds = SyntheticLandslideDataset(num_samples=1, size=32, bands=('R', 'G', 'B', 'DEM'),
                                   pipeline=pipe)
    clean = SyntheticLandslideDataset(num_samples=1, size=32, bands=('R', 'G', 'B', 'DEM'),
                                      pipeline=pipe[:1])[0]
    np.random.seed(0)
    a, b = ds[0], ds[0]
    assert a['img'].dtype == np.float32 and a['img'].shape == (32, 32, 4)
    assert not np.array_equal(a['img'][..., :3], b['img'][..., :3])
    np.testing.assert_array_equal(a['img'][..., 3], clean['img'][..., 3])
    np.testing.assert_array_equal(a['gt_seg_map'], clean['gt_seg_map'])
    # the dataset's cached scene is untouched by the augmentations
    np.testing.assert_array_equal(ds[0]['img'][..., 3], clean['img'][..., 3])
    cached = next(iter(ds._cache.values()))['img']
    np.testing.assert_array_equal(cached, SyntheticLandslideDataset(
        num_samples=1, size=32, bands=('R', 'G', 'B', 'DEM'))._arrays(ds.get_data_info(0))['img'])
