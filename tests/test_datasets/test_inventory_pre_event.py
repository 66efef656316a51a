"""InventoryDataset with a pre-event image per scene, on another grid and CRS (change models
trained on a mapper's own data)."""
import shutil

import numpy as np
import pytest
import rasterio
import shapely
from pyogrio.raw import write as write_vector

from helpers import CHANGE_CONFIG, SCENE_CRS, SCENE_TRANSFORM, write_change_pair, write_scene
from lszoo.datasets import InventoryDataset
from lszoo.datasets.transforms import LoadInventoryWindow
from lszoo.errors import ConfigError, DataError, SceneWarning

BANDS = ['R', 'G', 'B', 'pre_R', 'pre_G', 'pre_B']
LAYOUT = dict(post=[0, 1, 2], pre=[3, 4, 5])
X0, Y0 = SCENE_TRANSFORM.c, SCENE_TRANSFORM.f


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp('inv_pair')
    pair = write_change_pair(d, h=128, w=192)
    for key in ('post', 'pre', 'aligned'):  # the dataset finds bands by their names
        with rasterio.open(pair[key], 'r+') as ds:
            ds.descriptions = ('R', 'G', 'B')
    box = shapely.box(X0 + 300, Y0 - 900, X0 + 800, Y0 - 400)  # pixel rows 40-90, cols 30-80
    write_vector(str(d / 'inv.gpkg'), geometry=shapely.to_wkb(np.array([box], dtype=object)),
                 field_data=[np.array(['slide'], dtype=object)], fields=['type'],
                 crs=SCENE_CRS.to_string(), geometry_type='Polygon', driver='GPKG')
    return dict(pair, inv=str(d / 'inv.gpkg'), dir=d)


def _dataset(data, **kwargs):
    args = dict(scenes=data['post'], inventory=data['inv'], pre=data['pre'], split='all',
                window_size=64, bands=BANDS, stream_layout=LAYOUT)
    args.update(kwargs)
    return InventoryDataset(**args)


def test_pre_image_in_another_crs_is_warped_to_each_window(data):
    ds = _dataset(data)
    assert len(ds) == 6 and ds.stream_layout == {'post': [0, 1, 2], 'pre': [3, 4, 5]}
    with rasterio.open(data['post']) as post, rasterio.open(data['aligned']) as aligned:
        for i in range(len(ds)):
            out = LoadInventoryWindow()(ds.get_data_info(i))
            x, y, w, h = out['window']
            win = ((y, y + h), (x, x + w))
            img = out['img'].transpose(2, 0, 1)
            np.testing.assert_array_equal(img[:3], post.read(window=win))
            # the pre image, read per window, equals gdalwarp-equivalent alignment of all of it
            np.testing.assert_array_equal(img[3:], aligned.read(window=win))
            assert (out['gt_seg_map'] != 255).all()
    labels = LoadInventoryWindow()(ds.get_data_info(0))['gt_seg_map']
    assert labels[40:64, 30:64].all() and labels.sum() == 24 * 34  # window 0: rows 0-63


def test_default_bands_streams_and_pre_gaps(data, tmp_path):
    ds = _dataset(data, bands=None, stream_layout=None)
    assert ds.band_names == ['R', 'G', 'B', 'pre_R', 'pre_G', 'pre_B']
    assert ds.stream_layout == {'post': [0, 1, 2], 'pre': [3, 4, 5]}
    # a pre image covering the west half only: the east half is ignored (255) in the labels
    with rasterio.open(data['aligned']) as src:
        part, profile = src.read(window=((0, 128), (0, 96))), src.profile
    profile.update(width=96)
    with rasterio.open(tmp_path / 'half.tif', 'w', **profile) as dst:
        dst.write(part)
    with pytest.warns(SceneWarning, match=r'half\.tif covers 50\.0% of scene'):
        ds = _dataset(data, pre=str(tmp_path / 'half.tif'))
    seg = np.concatenate([LoadInventoryWindow()(ds.get_data_info(i))['gt_seg_map']
                          for i in range(3)], axis=1)  # the first row of windows
    assert (seg[:, :95] != 255).all() and (seg[:, 97:] == 255).all()


def test_pre_bad_inputs(data, tmp_path):
    with pytest.raises(ConfigError, match=r'InventoryDataset bands is a bi-temporal .*pre= of '
                                          'InventoryDataset'):
        _dataset(data, pre=None)
    four, _ = write_scene(tmp_path / 'four.tif', 128, 192, bands=4)
    with pytest.raises(DataError, match=r'four\.tif has 4 band\(s\), the post-event image'):
        _dataset(data, pre=four)
    far = rasterio.Affine(10.0, 0, 900000.0, 0, -10.0, Y0)
    away, _ = write_scene(tmp_path / 'away.tif', 64, 64, bands=3, transform=far)
    with pytest.raises(DataError, match=r'pre-event image .*away\.tif does not cover scene'):
        _dataset(data, pre=away)
    with pytest.raises(ConfigError, match="template with '{name}'"):
        _dataset(data, scenes=[data['post'], data['aligned']], pre=data['pre'])
    shutil.copy(data['pre'], tmp_path / 'post_before.tif')
    ds = _dataset(data, pre=str(tmp_path / '{name}_before.tif'))  # the scene's stem: post
    assert ds.pre_paths == [str(tmp_path / 'post_before.tif')]
    ds = _dataset(data, pre={'post': data['pre']})
    assert ds.pre_paths == [data['pre']]


def test_change_model_trains_a_step_on_the_pairs(data):
    """The FC-Siam-diff demo model computes a finite loss and gradients on two windows."""
    from mmengine.dataset import pseudo_collate

    from lszoo.apis.scene import init_scene_model
    pipeline = [dict(type='LoadInventoryWindow'),
                dict(type='NormalizeBands', mode='scale', scale=255.0),
                dict(type='PackSegInputs', meta_keys=('img_path', 'ori_shape', 'img_shape',
                                                      'band_names', 'stream_layout'))]
    ds = _dataset(data, pipeline=pipeline)
    model, _ = init_scene_model(CHANGE_CONFIG)
    model.train()
    batch = model.data_preprocessor(pseudo_collate([ds[0], ds[1]]), True)
    losses = model.loss(batch['inputs'], batch['data_samples'])
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert np.isfinite(float(total))
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
