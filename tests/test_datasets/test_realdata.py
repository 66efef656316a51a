"""Real sample files (../shared/realdata beside the repository) through the same dataset classes
and the base configs' test pipelines. Skipped where that folder is absent. The files are only
read in place (L4S through symlinks in a temporary folder); nothing is copied or written there.
"""
from pathlib import Path

import h5py
import numpy as np
import pytest
from helpers import REALDATA, REPO
from mmengine.config import Config
from mmengine.registry import init_default_scope

from lszoo.datasets import BijieDataset, CASLandslideDataset, L4SDataset
from lszoo.datasets.io import read_raster

REAL = Path(REALDATA)
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f'{REAL} not present')
init_default_scope('mmseg')


def _test_pipeline(name):
    return Config.fromfile(str(Path(REPO, 'configs/_base_/datasets', f'{name}.py'))).test_pipeline


def test_l4s_real_test_images_load_without_masks(tmp_path):
    src = REAL / 'l4s_test_images'
    if not src.is_dir():
        pytest.skip('no L4S sample')
    (tmp_path / 'TestData').mkdir()
    (tmp_path / 'TestData' / 'img').symlink_to(src, target_is_directory=True)
    n = len(list(src.glob('*.h5')))
    raw_ds = L4SDataset(data_root=str(tmp_path), split='test',
                        bands=['B4', 'B3', 'B2', 'B8', 'NDVI', 'slope', 'DEM'],
                        pipeline=[dict(type='LoadLandslideSample')])
    assert len(raw_ds) == n == 14
    for i in range(n):
        r = raw_ds[i]
        with h5py.File(r['img_path']) as f:
            raw = f['img'][()]
        assert r['img'].shape == (128, 128, 7) and r['img'].dtype == np.float32
        np.testing.assert_allclose(r['img'][..., :4], raw[..., [3, 2, 1, 7]], rtol=1e-6)
        assert np.isfinite(r['img']).all()
        assert -1 <= r['img'][..., 4].min() and r['img'][..., 4].max() <= 1  # NDVI
        assert 'gt_seg_map' not in r
    ds = L4SDataset(data_root=str(tmp_path), split='test', pipeline=_test_pipeline('l4s'))
    out = ds[0]
    x = out['inputs']
    assert tuple(x.shape) == (14, 128, 128)
    # official mean/std: the real values (about 1-1.7 on average) land at a few units
    assert float(x.abs().mean()) < 5 and 'gt_sem_seg' not in out['data_samples']
    assert out['data_samples'].metainfo['band_names'][-2:] == ['slope', 'DEM']


def test_cas_real_tiles_load(tmp_path):
    src = REAL / 'cas_tiles'
    if not src.is_dir():
        pytest.skip('no CAS sample')
    ds = CASLandslideDataset(data_root=str(src), split='all', img_dir='.',
                             split_dir=str(tmp_path), pipeline=_test_pipeline('cas'))
    files = [p for p in src.rglob('*') if p.suffix in ('.tif', '.tiff')]
    assert len(ds) == len(files) == 29
    assert {ds.get_data_info(i)['subdataset'] for i in range(len(ds))} == {'satellite', 'uav'}
    assert {Path(ds.get_data_info(i)['img_path']).suffix for i in range(len(ds))} == \
        {'.tif', '.tiff'}
    for i in (0, len(ds) - 1):
        out = ds[i]
        x = out['inputs']
        assert tuple(x.shape) == (3, 512, 512)
        raw, meta = read_raster(ds.get_data_info(i)['img_path'])
        np.testing.assert_allclose(x.permute(1, 2, 0).numpy(), raw / 255.0, rtol=1e-6)
        assert 'crs' not in out['data_samples'].metainfo  # CAS tiles are not georeferenced
    train = CASLandslideDataset(data_root=str(src), split='train', img_dir='.',
                                split_dir=str(tmp_path), pipeline=[])
    assert len(train) == int(0.7 * 16) + int(0.7 * 13)
    assert not any(REAL.rglob('splits'))


def test_bijie_real_images_with_masks_load(tmp_path):
    src = REAL / 'bijie_mini'
    if not src.is_dir():
        pytest.skip('no Bijie sample')
    kw = dict(data_root=str(src), class_dirs=dict(landslide='.', non_landslide=None),
              bands=['R', 'G', 'B'], split_dir=str(tmp_path))
    raw_ds = BijieDataset(split='all', pipeline=[dict(type='LoadLandslideSample')], **kw)
    assert len(raw_ds) == 36
    total = 0
    for i in range(len(raw_ds)):
        r = raw_ds[i]
        m, _ = read_raster(r['seg_map_path'])
        assert r['img'].shape[:2] == r['gt_seg_map'].shape == m.shape[:2]
        np.testing.assert_array_equal(r['gt_seg_map'], (m[..., 0] == 255).astype(np.uint8))
        total += int(r['gt_seg_map'].sum())
    assert total > 0
    pipe = _test_pipeline('bijie')
    ds = BijieDataset(split='train', pipeline=pipe, **kw)
    assert len(ds) == int(0.7 * 36)
    out = ds[0]
    assert tuple(out['inputs'].shape) == (3, 256, 256)  # DiGATe recipe: resized to 256
    x = out['inputs'].numpy()
    assert np.allclose(x.reshape(3, -1).min(1), 0) and np.allclose(x.reshape(3, -1).max(1), 1)
    # the mask stays at the original size (scored there after predictions are resized back)
    gt = out['data_samples'].gt_sem_seg.data
    meta = out['data_samples'].metainfo
    assert tuple(gt.shape[1:]) == meta['ori_shape'] != (256, 256)
    assert meta['img_shape'] == (256, 256) and set(gt.unique().tolist()) <= {0, 1}
    assert not any(REAL.rglob('splits'))
