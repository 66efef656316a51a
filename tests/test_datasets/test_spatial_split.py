"""Spatial-block split: grid, seeded stratified assignment, GeoJSON round trip."""
import pytest

from lszoo.datasets.spatial_split import (SPLITS, assign_blocks, block_grid, read_blocks,
                                          spatial_blocks)
from lszoo.errors import ConfigError


def test_assign_blocks_is_seeded_and_stratified():
    blocks = block_grid([(0, 0, 1000, 1000)], 100)
    positive = [k % 3 == 0 for k in range(len(blocks))]
    a = assign_blocks(blocks, positive, (0.6, 0.2, 0.2), seed=1)
    assert a == assign_blocks(blocks, positive, (0.6, 0.2, 0.2), seed=1)
    assert a != assign_blocks(blocks, positive, (0.6, 0.2, 0.2), seed=2)
    for s in SPLITS:
        assert any(b.split == s and p for b, p in zip(a, positive)), s


def test_block_file_round_trip_and_size_check(tmp_path):
    path = tmp_path / 'blocks.geojson'
    scenes = [(0, 0, 1000, 500), (1200, 0, 2000, 500)]
    blocks = spatial_blocks(path, scenes, 'EPSG:32645', 250, (0.5, 0.25, 0.25), 0)
    assert all(b.left >= 0 and b.right <= 2000 for b in blocks)
    assert not any(1000 <= b.left and b.right <= 1200 for b in blocks)  # the gap has no block
    back, size = read_blocks(path)
    assert size == 250 and [(b.ix, b.iy, b.split) for b in back] == \
        [(b.ix, b.iy, b.split) for b in blocks]
    with pytest.raises(ConfigError, match='block_size 250.0, the config says 500'):
        spatial_blocks(path, scenes, 'EPSG:32645', 500, (0.5, 0.25, 0.25), 0)


def test_bad_fractions():
    with pytest.raises(ConfigError, match='split_fractions'):
        assign_blocks(block_grid([(0, 0, 100, 100)], 10), [False] * 100, (0.5, 0.5, 0.5), 0)


def test_few_landslide_blocks_still_reach_every_split():
    blocks = block_grid([(0, 0, 400, 400)], 100)  # 16 blocks, 3 with landslides
    positive = [k in (2, 7, 11) for k in range(16)]
    for seed in range(5):
        a = assign_blocks(blocks, positive, (0.7, 0.15, 0.15), seed)
        assert sorted(b.split for b, p in zip(a, positive) if p) == ['test', 'train', 'val']
