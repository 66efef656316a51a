"""The synthetic landslide generator and the in-memory dataset."""
import numpy as np
import pytest

from lszoo.datasets.synthetic import (S2_BANDS, SyntheticLandslideDataset, generate_scene,
                                      scene_bands, stream_layout_for)
from lszoo.errors import ConfigError


def test_scene_is_deterministic_and_seed_dependent():
    a, b, c = generate_scene(11, 64), generate_scene(11, 64), generate_scene(12, 64)
    for field in ('rgb', 's2', 'dem', 'slope', 'pre_rgb', 'mask'):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.dem, c.dem)


def test_scene_shapes_types_and_ranges():
    s = generate_scene(3, (48, 80), clouds=True)
    assert s.rgb.shape == (48, 80, 3) and s.pre_rgb.shape == (48, 80, 3)
    assert s.s2.shape == (48, 80, len(S2_BANDS))
    assert s.dem.shape == s.slope.shape == s.mask.shape == (48, 80)
    assert s.mask.dtype == np.uint8 and set(np.unique(s.mask)) <= {0, 1}
    assert s.rgb.dtype == np.float32 and 0 <= s.rgb.min() and s.rgb.max() <= 1
    assert 0 <= s.slope.min() and s.slope.max() < 90


def test_landslides_sit_on_steep_ground_and_change_only_their_pixels():
    steeper, total = 0, 0
    for seed in range(10):
        s = generate_scene(seed, 128)
        if s.mask.any():
            total += 1
            steeper += s.slope[s.mask == 1].mean() > s.slope[s.mask == 0].mean()
            # Outside the scars, the post-event image equals the pre-event one.
            outside = s.mask == 0
            np.testing.assert_allclose(s.rgb[outside], s.pre_rgb[outside], atol=1e-6)
            assert np.abs(s.rgb[~outside] - s.pre_rgb[~outside]).mean() > 0.05
    assert total >= 8 and steeper == total


def test_no_landslide_scene_has_empty_mask():
    assert generate_scene(5, 64, landslides=False).mask.sum() == 0


def test_band_stack_and_stream_layout():
    s = generate_scene(1, 32)
    img = scene_bands(s, ['R', 'G', 'B', 'NDVI', 'DEM', 'slope'])
    assert img.shape == (32, 32, 6) and img.dtype == np.float32
    np.testing.assert_allclose(img[..., 4], s.dem / 1000, rtol=1e-6)
    assert -1 <= img[..., 3].min() and img[..., 3].max() <= 1
    assert stream_layout_for(['R', 'G', 'B', 'DEM', 'pre_R']) == {
        'optical': [0, 1, 2], 'topo': [3], 'pre': [4]}
    with pytest.raises(ConfigError, match='unknown synthetic band'):
        scene_bands(s, ['R', 'B8A'])


def test_dataset_follows_the_sample_contract():
    ds = SyntheticLandslideDataset(num_samples=3, size=32, seed=2, bands=('R', 'G', 'B', 'DEM'),
                                   landslide_fraction=1.0)
    assert len(ds) == 3
    d = ds[1]
    assert d['img'].shape == (32, 32, 4) and d['img'].dtype == np.float32
    assert d['gt_seg_map'].shape == (32, 32) and d['seg_fields'] == ['gt_seg_map']
    assert d['stream_layout'] == {'optical': [0, 1, 2], 'topo': [3]}
    assert d['band_names'] == ['R', 'G', 'B', 'DEM']
    np.testing.assert_array_equal(d['img'], ds[1]['img'])
    assert not np.array_equal(d['img'], ds[0]['img'])
    with pytest.raises(ConfigError):
        SyntheticLandslideDataset(num_samples=0)


def test_hard_world_adds_look_alike_quarries_outside_the_mask():
    """The hard world adds bare (SWIR-bright) cuts that are not landslides, on steep ground."""
    for seed in range(4):
        easy, hard = generate_scene(seed, 96), generate_scene(seed, 96, hard=True)
        np.testing.assert_array_equal(easy.dem, hard.dem)  # same terrain
        outside = (easy.mask == 0) & (hard.mask == 0)
        bare = (hard.s2[..., 11] - easy.s2[..., 11] > 0.1) & outside
        assert bare.sum() > 10
        assert np.median(hard.slope[bare]) > np.median(hard.slope)
    assert np.mean([generate_scene(s, 96, hard=True).mask.mean() for s in range(6)]) < np.mean(
        [generate_scene(s, 96).mask.mean() for s in range(6)])  # smaller scars
