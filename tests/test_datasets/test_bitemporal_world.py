"""The synthetic bi-temporal world: GVLM's layout, whole-site splits, confounders in both dates,
read by ``GVLMDataset`` (with the optional DEM band)."""
import numpy as np
import pytest

from lszoo.datasets.synthetic_change import generate_change_pair, write_change_world


def test_change_pair_is_deterministic_and_has_confounders():
    a, b = generate_change_pair(3, 128), generate_change_pair(3, 128)
    np.testing.assert_array_equal(a.post_rgb, b.post_rgb)
    np.testing.assert_array_equal(a.pre_rgb, b.pre_rgb)
    assert a.mask.any() and a.confounder.any()
    assert not (a.mask.astype(bool) & a.confounder.astype(bool)).any()
    # new scars change the image far more than the season does elsewhere
    diff = np.abs(a.post_rgb - a.pre_rgb).sum(-1)
    quiet = (a.mask == 0) & (a.confounder == 0)
    assert diff[a.mask > 0].mean() > 2 * diff[quiet].mean()
    # confounders look like scars in the post image: their colour is close to the new scars'
    scar, conf = a.post_rgb[a.mask > 0].mean(0), a.post_rgb[a.confounder > 0].mean(0)
    assert np.abs(scar - conf).max() < 0.1
    assert max(abs(s) for s in a.shift) <= 1.5


def test_gvlm_dataset_reads_the_world_with_held_out_sites(tmp_path):
    from lszoo.datasets import GVLMDataset
    root = write_change_world(tmp_path / 'w', num_sites=4, size=128, tile=64)
    for name in ('im1', 'im2', 'ref'):
        assert (root / 'Site00' / f'{name}.png').is_file()  # the distributed layout
    bands = ['R', 'G', 'B', 'pre_R', 'pre_G', 'pre_B', 'DEM']
    layout = {'post': [0, 1, 2], 'pre': [3, 4, 5], 'topo': [6]}
    sites = {}
    for split in ('train', 'val', 'test'):
        ds = GVLMDataset(data_root=str(root), split=split, tile_dir='tiles_64', bands=bands,
                         stream_layout=layout,
                         pipeline=[dict(type='LoadBitemporalSample')])
        sites[split] = {ds.get_data_info(i)['site'] for i in range(len(ds))}
        sample = ds[0]
        assert sample['img'].shape == (64, 64, 7)
        assert sample['img'][..., 6].min() > 100  # metres
    assert sites == dict(train={'Site00'}, val={'Site01'}, test={'Site02', 'Site03'})


def test_gvlm_dataset_names_a_missing_dem_tile(tmp_path):
    from lszoo.datasets import GVLMDataset
    from lszoo.errors import DataError
    root = write_change_world(tmp_path / 'w', num_sites=4, size=64, tile=64)
    missing = root / 'tiles_64' / 'Site03' / 'dem' / 'Site03_00000_00000.png'
    missing.unlink()
    with pytest.raises(DataError, match='no DEM tile .*Site03_00000_00000'):
        GVLMDataset(data_root=str(root), split='test', tile_dir='tiles_64',
                    bands=['R', 'G', 'B', 'DEM'])
    # a config without the DEM band does not need it
    assert len(GVLMDataset(data_root=str(root), split='test', tile_dir='tiles_64')) == 2


def test_demo_world_is_written_when_missing(tmp_path):
    """A change demo config on a fresh checkout: the tools write the world where the config's
    loaders expect it (one atomic folder), and GVLMDataset then reads it."""
    from mmengine.config import Config

    from lszoo.datasets import GVLMDataset
    from lszoo.datasets.synthetic_writers import ensure_synthetic_data
    root = str(tmp_path / 'new')
    cfg = Config(dict(synthetic_data=dict(name='gvlm_change', num_images=4, size=64, tile=64),
                      test_dataloader=dict(dataset=dict(type='GVLMDataset', data_root=root))))
    assert ensure_synthetic_data(cfg) == [root]
    ds = GVLMDataset(data_root=root, split='test', tile_dir='tiles_64')
    assert len(ds) == 2
    assert ensure_synthetic_data(cfg) == []  # there now: not written again
    assert not [p for p in tmp_path.iterdir() if p.name.endswith('.part')]
