"""The four benchmark datasets on tiny synthetic copies of their public layouts.

Covers reading (values, bands, masks, layouts), splits, the GVLM tile converter and every bad
input the datasets must report with a message naming the file and the problem.
"""
import shutil
import tracemalloc
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
import rasterio
from helpers import load_script
from mmengine.registry import init_default_scope

import lszoo  # noqa: F401  (registers the datasets)
from lszoo.datasets import BijieDataset, CASLandslideDataset, GVLMDataset, L4SDataset
from lszoo.datasets.base import seeded_split
from lszoo.datasets.io import read_raster
from lszoo.datasets.synthetic_writers import write_synthetic_dataset
from lszoo.datasets.transforms import InvalidPixelWarning, LoadLandslideSample
from lszoo.errors import ConfigError, DataError

init_default_scope('mmseg')
SIZE = 32
LOAD = [dict(type='LoadLandslideSample')]


def _converter():
    mod = load_script('tools/dataset_converters/gvlm.py')
    return mod


@pytest.fixture(scope='module')
def written(tmp_path_factory):
    """One synthetic copy of each layout, written once for the module (read-only use)."""
    base = tmp_path_factory.mktemp('synthetic')
    out = {}
    for name, n in (('l4s', 8), ('l4s_mirror', 8), ('bijie', 10), ('cas', 5), ('gvlm', 2)):
        out[name] = write_synthetic_dataset(name, base / name, num_images=n, size=SIZE, seed=3)
    return out


@pytest.fixture
def copy_of(written, tmp_path):
    """A private copy of a written dataset, for tests that damage files."""
    def make(name):
        dst = tmp_path / name
        shutil.copytree(written[name], dst)
        return dst
    return make


def _tif(path, arr):
    a = arr if arr.ndim == 3 else arr[..., None]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with rasterio.open(path, 'w', driver='GTiff', width=a.shape[1], height=a.shape[0],
                           count=a.shape[2], dtype=a.dtype) as dst:
            dst.write(np.moveaxis(a, -1, 0))


def _png(path, arr):
    a = arr if arr.ndim == 3 else arr[..., None]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with rasterio.open(path, 'w', driver='PNG', width=a.shape[1], height=a.shape[0],
                           count=a.shape[2], dtype=a.dtype) as dst:
            dst.write(np.moveaxis(a, -1, 0))


# ----------------------------------------------------------------------------- writers
def test_writers_produce_the_public_formats(written):
    with h5py.File(written['l4s'] / 'TestData/img/image_2.h5') as f:
        assert list(f.keys()) == ['img'] and f['img'].dtype == np.float64
        assert f['img'].shape == (SIZE, SIZE, 14)
    with h5py.File(written['l4s'] / 'TestData/mask/mask_2.h5') as f:
        assert list(f.keys()) == ['mask'] and f['mask'].dtype == np.uint8
        assert set(np.unique(f['mask'][()])) <= {0, 1}
    b = written['bijie']
    assert sorted(p.name for p in (b / 'landslide').iterdir()) == \
        ['dem', 'image', 'mask', 'polygon_coordinate']
    assert sorted(p.name for p in (b / 'non-landslide').iterdir()) == ['dem', 'image']
    with rasterio.open(b / 'landslide/dem/ls0002.png') as src:
        assert src.count == 1 and src.dtypes[0] == 'uint16'
    with rasterio.open(b / 'landslide/image/ls0002.png') as src:
        assert src.count == 3 and src.dtypes[0] == 'uint8' and src.shape == (SIZE + 16, SIZE)
    mask, _ = read_raster(b / 'landslide/mask/ls0002.png')
    assert set(np.unique(mask)) == {0, 255}
    c = written['cas'] / 'Hokkaido Iburi-Tobu'
    assert sorted(p.name for p in c.iterdir()) == ['img', 'label', 'mask']
    m, _ = read_raster(c / 'mask/Hokkaido0001.tif')
    assert m.dtype == np.uint8 and set(np.unique(m)) <= {0, 1}
    g = written['gvlm']
    assert sorted(p.name for p in (g / 'Italy').iterdir()) == ['im1.png', 'im2.png', 'ref.png']
    with pytest.raises(ConfigError, match="unknown dataset 'landslide4sense'"):
        write_synthetic_dataset('landslide4sense', g / 'x')


# ----------------------------------------------------------------------------- L4S
def test_l4s_zenodo_layout_values_and_bands(written):
    root = written['l4s']
    sizes = {s: len(L4SDataset(data_root=str(root), split=s, pipeline=LOAD))
             for s in ('train', 'val', 'test')}
    assert sizes == {'train': 8, 'val': 2, 'test': 2}
    ds = L4SDataset(data_root=str(root), split='train', bands=['B4', 'B3', 'B2', 'NDVI', 'DEM'],
                    pipeline=LOAD)
    r = ds[0]
    assert Path(r['img_path']).name == 'image_1.h5'
    with h5py.File(root / 'TrainData/img/image_1.h5') as f:
        raw = f['img'][()]
    with h5py.File(root / 'TrainData/mask/mask_1.h5') as f:
        mask = f['mask'][()]
    assert raw.shape == (SIZE, SIZE, 14) and raw.dtype == np.float64
    img = r['img']
    assert img.dtype == np.float32 and img.shape == (SIZE, SIZE, 5)
    np.testing.assert_allclose(img[..., :3], raw[..., [3, 2, 1]], rtol=1e-6)
    ndvi = (raw[..., 7] - raw[..., 3]) / (raw[..., 7] + raw[..., 3])
    np.testing.assert_allclose(img[..., 3], ndvi, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(img[..., 4], raw[..., 13], rtol=1e-6)
    assert r['band_names'] == ['B4', 'B3', 'B2', 'NDVI', 'DEM']
    assert dict(r['stream_layout']) == {'optical': [0, 1, 2, 3], 'topo': [4]}
    assert r['gt_seg_map'].dtype == np.uint8
    np.testing.assert_array_equal(r['gt_seg_map'], mask)
    assert r['seg_fields'] == ['gt_seg_map']
    # L4S files are scaled like the real data: about 0-7 with the cirrus band larger
    assert 0 <= raw[..., :9].min() and raw[..., :9].max() < 8


def test_l4s_mirror_layout_reads_the_same_scenes(written):
    a = L4SDataset(data_root=str(written['l4s']), split='val', pipeline=LOAD)
    b = L4SDataset(data_root=str(written['l4s_mirror']), split='val', pipeline=LOAD)
    assert 'images/validation' in b[0]['img_path']
    assert 'annotations/validation' in b[0]['seg_map_path']
    np.testing.assert_array_equal(a[1]['img'], b[1]['img'])
    np.testing.assert_array_equal(a[1]['gt_seg_map'], b[1]['gt_seg_map'])


def test_l4s_split_without_masks_loads_for_prediction(copy_of):
    root = copy_of('l4s')
    shutil.rmtree(root / 'TestData' / 'mask')
    ds = L4SDataset(data_root=str(root), split='test', pipeline=[
        dict(type='LoadLandslideSample'),
        dict(type='PackSegInputs', meta_keys=('img_path', 'band_names', 'stream_layout'))])
    out = ds[0]
    assert out['inputs'].shape == (14, SIZE, SIZE)
    assert 'gt_sem_seg' not in out['data_samples']
    assert ds.get_data_info(0)['seg_map_path'] is None


def test_l4s_missing_single_mask_is_reported(copy_of):
    root = copy_of('l4s')
    (root / 'ValidData' / 'mask' / 'mask_2.h5').unlink()
    with pytest.raises(DataError, match=r'image_2\.h5: no mask .*mask_2\.h5'):
        L4SDataset(data_root=str(root), split='val', pipeline=LOAD)


def test_explicit_stream_layout_by_name_and_default_grouping(written):
    ds = L4SDataset(data_root=str(written['l4s']), split='val',
                    bands=['DEM', 'B2', 'slope', 'DEM'],
                    stream_layout={'optical': ['B2'], 'topo': ['DEM', 'DEM', 2]},
                    pipeline=LOAD)
    r = ds[0]
    assert r['img'].shape[2] == 4
    assert dict(r['stream_layout']) == {'optical': [1], 'topo': [0, 0, 2]}
    default = L4SDataset(data_root=str(written['l4s']), split='val',
                         bands=[13, 'b2', 'slope'], pipeline=LOAD)
    assert default.band_names == ['DEM', 'B2', 'slope']
    assert dict(default.stream_layout) == {'topo': [0, 2], 'optical': [1]}


# ----------------------------------------------------------------------------- Bijie
def test_seeded_split_reproduces_digate_bijie_counts():
    ls = [f'landslide/{i}' for i in range(770)]
    nls = [f'non-landslide/{i}' for i in range(2003)]
    train, val, test = seeded_split([ls, nls], (0.7, 0.2, 0.1), seed=42)
    assert (len(train), len(val), len(test)) == (1941, 554, 278)
    assert sum(e.startswith('landslide') for e in val) == 154
    assert len(set(train) | set(val) | set(test)) == 2773
    again = seeded_split([ls, nls], (0.7, 0.2, 0.1), seed=42)
    assert again[1] == val
    assert seeded_split([ls, nls], (0.7, 0.2, 0.1), seed=1)[1] != val


def test_bijie_split_files_per_class_and_samples(copy_of):
    root = copy_of('bijie')
    parts = {s: BijieDataset(data_root=str(root), split=s, pipeline=LOAD)
             for s in ('train', 'val', 'test')}
    # 10 images per class: int(7) / int(2) / rest 1, per class
    assert {s: len(d) for s, d in parts.items()} == {'train': 14, 'val': 4, 'test': 2}
    files = sorted(p.name for p in (root / 'splits').iterdir())
    assert files == ['bijie_test_seed42.txt', 'bijie_train_seed42.txt', 'bijie_val_seed42.txt']
    entries = [set((root / 'splits' / f).read_text().split()) for f in files]
    assert not (entries[0] & entries[1]) and not (entries[1] & entries[2])
    assert len(entries[0] | entries[1] | entries[2]) == 20
    # the split files are read back, not regenerated: edit one and see the change
    (root / 'splits' / 'bijie_test_seed42.txt').write_text('landslide/ls0000\n')
    assert len(BijieDataset(data_root=str(root), split='test', pipeline=LOAD)) == 1

    ds = BijieDataset(data_root=str(root), split='all', pipeline=LOAD)
    assert len(ds) == 20
    info = [ds.get_data_info(i) for i in range(len(ds))]
    i_ls = next(i for i, d in enumerate(info) if d['bijie_class'] == 'landslide'
                and Path(d['img_path']).stem == 'ls0001')
    i_nls = next(i for i, d in enumerate(info) if d['bijie_class'] == 'non_landslide')
    r = ds[i_ls]
    rgb, _ = read_raster(root / 'landslide/image/ls0001.png')
    dem, _ = read_raster(root / 'landslide/dem/ls0001.png')
    mask, _ = read_raster(root / 'landslide/mask/ls0001.png')
    assert r['img'].shape == rgb.shape[:2] + (4,) and rgb.shape[:2] != (SIZE, SIZE)
    np.testing.assert_array_equal(r['img'][..., :3], rgb.astype(np.float32))
    np.testing.assert_array_equal(r['img'][..., 3], dem[..., 0].astype(np.float32))
    np.testing.assert_array_equal(r['gt_seg_map'], (mask[..., 0] == 255).astype(np.uint8))
    assert r['gt_seg_map'].sum() > 0
    r = ds[i_nls]
    assert r['gt_seg_map'].shape == r['img'].shape[:2] and r['gt_seg_map'].max() == 0


def test_a_missing_split_file_beside_edited_ones_is_an_error_not_a_rewrite(copy_of):
    root = copy_of('bijie')
    BijieDataset(data_root=str(root), split='train', pipeline=LOAD)  # writes the three files
    splits = root / 'splits'
    train = splits / 'bijie_train_seed42.txt'
    edited = 'landslide/ls0001\nnon-landslide/nls0002\n'
    train.write_text(edited)
    (splits / 'bijie_test_seed42.txt').unlink()
    with pytest.raises(DataError, match=r'bijie_test_seed42\.txt missing beside .*'
                       r'bijie_train_seed42\.txt.*not regenerating'):
        BijieDataset(data_root=str(root), split='test', pipeline=LOAD)
    assert train.read_text() == edited
    assert not (splits / 'bijie_test_seed42.txt').exists()
    # with none of the set left, the seeded files are written again
    for f in splits.iterdir():
        f.unlink()
    assert len(BijieDataset(data_root=str(root), split='test', pipeline=LOAD)) == 2


def test_bijie_missing_dem_only_matters_when_dem_is_asked_for(copy_of):
    root = copy_of('bijie')
    (root / 'non-landslide/dem/nls0003.png').unlink()
    with pytest.raises(DataError, match=r'nls0003\.png: no DEM .*dem/nls0003\.png.*asks for '
                                        r'the DEM'):
        BijieDataset(data_root=str(root), split='all', pipeline=LOAD)
    rgb = BijieDataset(data_root=str(root), split='all', bands=['R', 'G', 'B'], pipeline=LOAD)
    assert rgb[0]['img'].shape[2] == 3


# ----------------------------------------------------------------------------- CAS
def test_cas_subdatasets_split_and_selection(copy_of):
    root = copy_of('cas')
    ds = CASLandslideDataset(data_root=str(root), split='all', pipeline=LOAD)
    assert len(ds) == 10
    subs = sorted({ds.get_data_info(i)['subdataset'] for i in range(len(ds))})
    assert subs == ['Hokkaido Iburi-Tobu', 'Moxitaidi (UAV-0.6m)']  # flat and nested unzip
    suffixes = {Path(ds.get_data_info(i)['img_path']).suffix for i in range(len(ds))}
    assert suffixes == {'.tif', '.tiff'}
    train = CASLandslideDataset(data_root=str(root), split='train', pipeline=LOAD)
    val = CASLandslideDataset(data_root=str(root), split='val', pipeline=LOAD)
    assert len(train) == 6 and len(val) == 4  # 7:3 of 5 tiles in each sub-dataset: 3 + 2
    tr = {train.get_data_info(i)['img_path'] for i in range(len(train))}
    va = {val.get_data_info(i)['img_path'] for i in range(len(val))}
    assert not tr & va
    one = CASLandslideDataset(data_root=str(root), split='train',
                              subdatasets=['Hokkaido Iburi-Tobu'], pipeline=LOAD)
    assert len(one) == 3
    r = one[0]
    img, _ = read_raster(r['img_path'])
    msk, _ = read_raster(r['seg_map_path'])
    np.testing.assert_array_equal(r['img'], img.astype(np.float32))
    np.testing.assert_array_equal(r['gt_seg_map'], msk[..., 0])
    assert '/mask/' in r['seg_map_path'] and '/label/' not in r['seg_map_path']
    with pytest.raises(ConfigError, match=r"\['Wenchuan'\] not found .*available: "
                                          r"\['Hokkaido Iburi-Tobu'"):
        CASLandslideDataset(data_root=str(root), split='train', subdatasets=['Wenchuan'],
                            pipeline=LOAD)


def test_hand_written_split_file_is_read_and_logged(copy_of, monkeypatch):
    """The custom-split format of docs/datasets.md: one path per line, relative to data_root,
    '#' comments; the file name is <dataset>_<sub-dataset>_<split>_seed<seed>.txt."""
    from lszoo.datasets import base
    root = copy_of('cas')
    tiles = sorted(p.relative_to(root).as_posix()
                   for p in (root / 'Hokkaido Iburi-Tobu').rglob('img/*.tif*'))
    split_dir = root / 'my_splits'
    split_dir.mkdir()
    split = split_dir / 'cas_Hokkaido-Iburi-Tobu_val_seed7.txt'
    split.write_text(f'# my validation tiles\n{tiles[0]}\n\n{tiles[2]}\n')
    logged = []
    monkeypatch.setattr(base, 'print_log', lambda msg, **kw: logged.append(msg))
    ds = CASLandslideDataset(data_root=str(root), split='val', split_dir=str(split_dir),
                             split_seed=7, subdatasets=['Hokkaido Iburi-Tobu'], pipeline=LOAD)
    assert [Path(ds.get_data_info(i)['img_path']).relative_to(root).as_posix()
            for i in range(len(ds))] == [tiles[0], tiles[2]]
    assert logged == [f"CASLandslideDataset: split 'val' of {root}: 2 samples from "
                      f"{split} (2 entries)"]
    # an entry that names no file is reported with the split file
    split.write_text('Hokkaido Iburi-Tobu/img/missing.tif\n')
    with pytest.raises(DataError, match='missing.tif'):
        CASLandslideDataset(data_root=str(root), split='val', split_dir=str(split_dir),
                            split_seed=7, subdatasets=['Hokkaido Iburi-Tobu'], pipeline=LOAD)


def test_l4s_logs_the_folder_it_read(written, monkeypatch):
    from lszoo.datasets import base
    logged = []
    monkeypatch.setattr(base, 'print_log', lambda msg, **kw: logged.append(msg))
    L4SDataset(data_root=str(written['l4s']), split='val', pipeline=LOAD)
    assert len(logged) == 1 and 'ValidData' in logged[0] and "split 'val'" in logged[0]


# ----------------------------------------------------------------------------- GVLM
def test_gvlm_converter_tiles_match_the_scene(copy_of, tmp_path):
    conv = _converter()
    assert conv.tile_starts(100, 32, 0) == [0, 32, 64, 68]
    assert conv.tile_starts(100, 32, 8) == [0, 24, 48, 68]
    assert conv.tile_starts(20, 32, 0) == [0]
    root = copy_of('gvlm')
    counts = conv.convert(root, tmp_path / 'tiles', size=32, overlap=8)
    scene, _ = read_raster(root / 'Italy' / 'im2.png')
    h, w = scene.shape[:2]
    assert counts['Italy'] == len(conv.tile_starts(h, 32, 8)) * len(conv.tile_starts(w, 32, 8))
    y, x = conv.tile_starts(h, 32, 8)[2], conv.tile_starts(w, 32, 8)[-1]
    tile, _ = read_raster(tmp_path / 'tiles/Italy/im2' / f'Italy_{y:05d}_{x:05d}.png')
    np.testing.assert_array_equal(tile, scene[y:y + 32, x:x + 32])
    ref, _ = read_raster(root / 'Italy' / 'ref.png')
    rtile, _ = read_raster(tmp_path / 'tiles/Italy/ref' / f'Italy_{y:05d}_{x:05d}.png')
    np.testing.assert_array_equal(rtile, ref[y:y + 32, x:x + 32])
    with pytest.raises(DataError, match='overlap'):
        conv.convert(root, tmp_path / 'bad', size=32, overlap=32)


def test_gvlm_converter_memory_does_not_grow_with_scene_height(tmp_path):
    conv = _converter()
    peaks = {}
    for h in (128, 1024):
        site = tmp_path / f'h{h}' / 'S'
        site.mkdir(parents=True)
        rgb = (np.arange(h * 256 * 3) % 251).astype(np.uint8).reshape(h, 256, 3)
        for name in ('im1', 'im2'):
            _png(site / f'{name}.png', rgb)
        _png(site / 'ref.png', ((rgb[..., 0] > 128) * 255).astype(np.uint8))
        del rgb
        tracemalloc.start()
        conv.convert(tmp_path / f'h{h}', tmp_path / f'out{h}', size=64, overlap=16)
        peaks[h] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    # numpy buffers are traced: the peak is a few strips (64 x 256 x 3 bytes each), the same
    # for an 8x taller scene, and far below one scene layer (1024 x 256 x 3 bytes)
    assert peaks[1024] < 1.5 * peaks[128] + 100_000, peaks
    assert peaks[1024] < 1024 * 256 * 3 / 2, peaks


def test_gvlm_dataset_post_and_pre_streams(copy_of):
    root = copy_of('gvlm')
    _converter().convert(root, root / 'tiles_32', size=32, overlap=0)
    parts = {s: GVLMDataset(data_root=str(root), tile_dir='tiles_32', split=s, pipeline=LOAD)
             for s in ('train', 'val', 'test', 'all')}
    n = len(parts['all'])
    assert len(parts['train']) + len(parts['val']) + len(parts['test']) == n
    assert len(parts['train']) >= int(0.6 * n) - 2 and len(parts['val']) > 0
    ds = GVLMDataset(data_root=str(root), tile_dir='tiles_32', split='train',
                     bands=['R', 'G', 'B', 'pre_R', 'pre_G', 'pre_B'], pipeline=LOAD)
    r = ds[0]
    assert r['img'].shape == (32, 32, 6)
    assert dict(r['stream_layout']) == {'optical': [0, 1, 2], 'pre': [3, 4, 5]}
    pre, _ = read_raster(r['img_path'].replace('/im2/', '/im1/'))
    np.testing.assert_array_equal(r['img'][..., 3:], pre.astype(np.float32))
    assert set(np.unique(r['gt_seg_map'])) <= {0, 1}
    with pytest.raises(DataError, match=r'tiles_512 does not exist.*gvlm\.py'):
        GVLMDataset(data_root=str(root), tile_dir='tiles_512', pipeline=LOAD)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize('cls,url', [(L4SDataset, 'zenodo.10463239'),
                                     (BijieDataset, 'gpcv.whu.edu.cn'),
                                     (CASLandslideDataset, 'zenodo.10294997'),
                                     (GVLMDataset, 'github.com/zxk688/GVLM')])
def test_missing_data_root_says_where_to_get_it(cls, url, tmp_path):
    missing = tmp_path / 'nowhere'
    with pytest.raises(DataError) as err:
        cls(data_root=str(missing), pipeline=LOAD)
    msg = str(err.value)
    assert str(missing) in msg and url in msg
    assert f'--data-root /path/to/{cls.NAME}' in msg
    assert f'configs/_base_/datasets/{cls.NAME}.py' in msg


def test_wrong_band_count_in_file(copy_of):
    root = copy_of('l4s')
    path = root / 'ValidData/img/image_1.h5'
    with h5py.File(path, 'r+') as f:
        data = f['img'][()]
        del f['img']
        f.create_dataset('img', data=data[..., :13])
    ds = L4SDataset(data_root=str(root), split='val', pipeline=LOAD)
    with pytest.raises(DataError, match=r'image_1\.h5: has 13 bands, expected 14'):
        ds[0]


@pytest.mark.parametrize('bands,pattern', [([14], r'band index 14 is out of range.*14 bands'),
                                           (['B8A'], r"unknown band 'B8A'"),
                                           ([], 'empty')])
def test_bad_band_selection(written, bands, pattern):
    with pytest.raises(ConfigError, match=pattern):
        L4SDataset(data_root=str(written['l4s']), split='val', bands=bands, pipeline=LOAD)


def test_stream_layout_out_of_range(written):
    with pytest.raises(ConfigError, match=r"stream_layout\['topo'\] channel 5 is out of range"):
        L4SDataset(data_root=str(written['l4s']), split='val', bands=['B2', 'DEM'],
                   stream_layout={'optical': [0], 'topo': [5]}, pipeline=LOAD)


def test_h5_without_expected_key(copy_of):
    root = copy_of('l4s')
    path = root / 'ValidData/mask/mask_2.h5'
    with h5py.File(path, 'w') as f:
        f.create_dataset('label', data=np.zeros((SIZE, SIZE), np.uint8))
    ds = L4SDataset(data_root=str(root), split='val', pipeline=LOAD)
    with pytest.raises(DataError, match=r"mask_2\.h5: HDF5 file has no dataset 'mask' "
                                        r"\(it holds \['label'\]\)"):
        ds[1]


def test_image_mask_size_mismatch(copy_of):
    root = copy_of('cas')
    mask = root / 'Hokkaido Iburi-Tobu/mask/Hokkaido0002.tif'
    _tif(mask, np.zeros((SIZE, SIZE - 2), np.uint8))
    ds = CASLandslideDataset(data_root=str(root), split='all',
                             subdatasets=['Hokkaido Iburi-Tobu'], pipeline=LOAD)
    with pytest.raises(DataError, match=rf'Hokkaido0002\.tif: mask size \({SIZE}, {SIZE - 2}\) '
                                        r'differs from image .*Hokkaido0002\.tif'):
        ds[1]


def test_mask_values_outside_encoding(copy_of):
    root = copy_of('bijie')
    m = np.zeros((SIZE, SIZE), np.uint8)
    m[:3] = 255
    m[5, 5] = 7
    _png(root / 'landslide/mask/ls0000.png', m)
    ds = BijieDataset(data_root=str(root), split='all', bands=['R', 'G', 'B'], pipeline=LOAD)
    with pytest.raises(DataError, match=r'ls0000\.png: mask values \[7\] are outside the '
                                        r'encoding \{0: 0, 255: 1\}'):
        ds[0]


def test_mask_map_override_from_the_config(copy_of):
    root = copy_of('cas')
    m = np.zeros((SIZE, SIZE), np.uint8)
    m[:2] = 255
    m[2:4] = 1
    _tif(root / 'Hokkaido Iburi-Tobu/mask/Hokkaido0001.tif', m)
    kw = dict(data_root=str(root), split='all', subdatasets=['Hokkaido Iburi-Tobu'],
              pipeline=LOAD)
    with pytest.raises(DataError, match=r'Hokkaido0001\.tif: mask values \[255\]'):
        CASLandslideDataset(**kw)[0]
    r = CASLandslideDataset(mask_map={0: 0, 1: 1, 255: 1}, **kw)[0]
    assert r['gt_seg_map'][:4].all() and r['gt_seg_map'].sum() == 4 * SIZE
    with pytest.raises(ConfigError, match='must map to 0, 1 or 255'):
        CASLandslideDataset(mask_map={0: 0, 1: 2}, **kw)


def test_nan_in_dem_is_filled_and_reported_once(copy_of):
    root = copy_of('l4s')
    for i in (1, 2):
        path = root / f'ValidData/img/image_{i}.h5'
        with h5py.File(path, 'r+') as f:
            data = f['img'][()]
            data[:4, :4, 13] = np.nan
            f['img'][...] = data
    ds = L4SDataset(data_root=str(root), split='val', pipeline=LOAD)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter('always')
        a, b = ds[0], ds[1]
    ours = [w for w in rec if issubclass(w.category, InvalidPixelWarning)]
    assert len(ours) == 1
    assert 'image_1.h5: 16 NaN/nodata pixels' in str(ours[0].message)
    for r, i in ((a, 1), (b, 2)):
        assert np.isfinite(r['img']).all()
        with h5py.File(root / f'ValidData/img/image_{i}.h5') as f:
            dem = f['img'][..., 13]
        np.testing.assert_allclose(r['img'][:4, :4, 13], np.nanmedian(dem), rtol=1e-6)


def test_declared_nodata_in_dem_png_is_filled(tmp_path):
    img = tmp_path / 'img.png'
    dem = tmp_path / 'dem.tif'
    _png(img, np.full((8, 8, 3), 10, np.uint8))
    d = np.full((8, 8), 500, np.int16)
    d[0, 0] = -9999
    with rasterio.open(dem, 'w', driver='GTiff', width=8, height=8, count=1, dtype='int16',
                       nodata=-9999) as dst:
        dst.write(d[None])
    loader = LoadLandslideSample(nodata_fill=0.0)
    with pytest.warns(InvalidPixelWarning, match=r'dem\.tif: 1 NaN/nodata'):
        r = loader(dict(sources=[dict(path=str(img), kind='raster', bands=3, role='image'),
                                 dict(path=str(dem), kind='raster', bands=1, role='dem')],
                        band_index=[0, 3], band_names=['R', 'DEM'],
                        stream_layout={'optical': [0], 'topo': [1]}, seg_map_path=None))
    assert r['img'][0, 0, 1] == 0.0 and r['img'][1, 1, 1] == 500.0


def test_truncated_files(copy_of):
    root = copy_of('l4s')
    path = root / 'ValidData/img/image_1.h5'
    path.write_bytes(path.read_bytes()[:300])
    ds = L4SDataset(data_root=str(root), split='val', pipeline=LOAD)
    with pytest.raises(DataError, match=r'image_1\.h5: unreadable HDF5 file'):
        ds[0]
    root = copy_of('cas')
    tif = root / 'Hokkaido Iburi-Tobu/img/Hokkaido0001.tif'
    tif.write_bytes(tif.read_bytes()[:200])
    ds = CASLandslideDataset(data_root=str(root), split='all',
                             subdatasets=['Hokkaido Iburi-Tobu'], pipeline=LOAD)
    with pytest.raises(DataError, match=r'Hokkaido0001\.tif: unreadable raster'):
        ds[0]


def test_empty_split(copy_of):
    root = copy_of('l4s')
    for p in (root / 'TrainData/img').iterdir():
        p.unlink()
    with pytest.raises(DataError, match=r"split 'train' of .* is empty"):
        L4SDataset(data_root=str(root), split='train', pipeline=LOAD)
    bij = copy_of('bijie')
    (bij / 'splits').mkdir()
    (bij / 'splits' / 'bijie_val_seed42.txt').write_text('# nothing\n')
    with pytest.raises(DataError, match=r"split 'val' of .* is empty .*split files in"):
        BijieDataset(data_root=str(bij), split='val', pipeline=LOAD)
    with pytest.raises(ConfigError, match="unknown split 'validation'"):
        L4SDataset(data_root=str(root), split='validation', pipeline=LOAD)


# ----------------------------------------------------------------------------- issue 12 faults
def _cas_one(root):
    return CASLandslideDataset(data_root=str(root), split='all',
                               subdatasets=['Hokkaido Iburi-Tobu'], pipeline=LOAD)


def test_cas_16bit_or_4band_tile_is_an_error_naming_file_dtype_bands(copy_of):
    root = copy_of('cas')
    tif = root / 'Hokkaido Iburi-Tobu/img/Hokkaido0001.tif'
    rgb, _ = read_raster(tif)
    _tif(tif, rgb.astype(np.uint16) * 257)
    with pytest.raises(DataError, match=r'Hokkaido0001\.tif: uint16 with 3 band\(s\).*must be '
                                        r'uint8 with 3 bands \(CAS tiles are 8-bit RGB\)'):
        _cas_one(root)[0]
    with rasterio.open(tif, 'w', driver='GTiff', width=rgb.shape[1], height=rgb.shape[0],
                       count=4, dtype='uint8', alpha='UNSPECIFIED') as dst:  # e.g. NIR, not alpha
        dst.write(np.moveaxis(np.concatenate([rgb, rgb[..., :1]], axis=2), -1, 0))
    with pytest.raises(DataError, match=r'Hokkaido0001\.tif: uint8 with 4 band\(s\) \(no alpha'):
        _cas_one(root)[0]


def test_cas_alpha_band_is_dropped_and_said_once(copy_of):
    from rasterio.enums import ColorInterp
    from lszoo.datasets.transforms import AlphaBandWarning
    root = copy_of('cas')
    originals = {}
    for name in ('Hokkaido0001.tif', 'Hokkaido0002.tif'):
        tif = root / 'Hokkaido Iburi-Tobu/img' / name
        rgb, _ = read_raster(tif)
        originals[name] = rgb
        rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=2)
        with rasterio.open(tif, 'w', driver='GTiff', width=rgb.shape[1], height=rgb.shape[0],
                           count=4, dtype='uint8', photometric='RGB', alpha='YES') as dst:
            dst.write(np.moveaxis(rgba, -1, 0))
            dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue,
                               ColorInterp.alpha]
    ds = _cas_one(root)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter('always')
        a, b = ds[0], ds[1]
    said = [w for w in rec if issubclass(w.category, AlphaBandWarning)]
    assert len(said) == 1 and 'Hokkaido0001.tif: band 4 is an alpha band' in str(said[0].message)
    np.testing.assert_array_equal(a['img'], originals['Hokkaido0001.tif'].astype(np.float32))
    assert b['img'].shape[2] == 3


def test_split_files_disagree_with_disk(copy_of):
    from lszoo.datasets.base import DatasetWarning
    root = copy_of('bijie')
    BijieDataset(data_root=str(root), split='train', pipeline=LOAD)  # writes the split files
    new = root / 'landslide/image/ls9999.png'
    shutil.copy(root / 'landslide/image/ls0001.png', new)
    shutil.copy(root / 'landslide/mask/ls0001.png', root / 'landslide/mask/ls9999.png')
    shutil.copy(root / 'landslide/dem/ls0001.png', root / 'landslide/dem/ls9999.png')
    with pytest.warns(DatasetWarning, match=r'1 of 21 files on disk are in no split file \(20 '
                                            r'listed\).*landslide/ls9999.*rewrite the splits: '
                                            r'delete .*bijie_\*seed42\.txt'):
        BijieDataset(data_root=str(root), split='train', pipeline=LOAD)
    # a listed file that disappeared is an error at init, whichever split is built
    test_entry = (root / 'splits/bijie_test_seed42.txt').read_text().split()[0]
    cls, _, stem = test_entry.partition('/')
    (root / ('landslide' if cls == 'landslide' else 'non-landslide') / 'image'
     / f'{stem}.png').unlink()
    with pytest.raises(DataError, match=rf'1 entry of the split files .*bijie_test_seed42\.txt'
                                        rf'.* have no file on disk: {test_entry}\. Restore'):
        BijieDataset(data_root=str(root), split='train', pipeline=LOAD)
    # CAS: the same check per sub-dataset
    cas = copy_of('cas')
    _ = CASLandslideDataset(data_root=str(cas), split='train', pipeline=LOAD)
    (cas / 'Hokkaido Iburi-Tobu/img/Hokkaido0001.tif').unlink()
    (cas / 'Hokkaido Iburi-Tobu/mask/Hokkaido0001.tif').unlink()
    with pytest.raises(DataError, match=r'CASLandslideDataset \(Hokkaido Iburi-Tobu\): 1 entry'):
        CASLandslideDataset(data_root=str(cas), split='val', pipeline=LOAD)


def test_mask_without_image_is_warned(copy_of):
    from lszoo.datasets.base import DatasetWarning
    root = copy_of('l4s')
    n = len(list((root / 'ValidData/img').iterdir()))
    (root / 'ValidData/img/image_2.h5').unlink()
    with pytest.warns(DatasetWarning, match=r'1 mask\(s\) in .*ValidData/mask have no image.*'
                                            r'mask_2\.h5'):
        ds = L4SDataset(data_root=str(root), split='val', pipeline=LOAD)
    assert len(ds) == n - 1


def _all_nan(path):
    with h5py.File(path, 'r+') as f:
        data = f['img'][()]
        data[...] = np.nan
        f['img'][...] = data


def test_all_nan_image_is_excluded_in_training_and_ignored_in_evaluation(copy_of):
    from lszoo.datasets.transforms import InvalidImageWarning
    root = copy_of('l4s')
    _all_nan(root / 'TrainData/img/image_1.h5')
    _all_nan(root / 'ValidData/img/image_1.h5')
    train = L4SDataset(data_root=str(root), split='train', pipeline=LOAD)
    assert Path(train.get_data_info(0)['img_path']).name == 'image_1.h5'
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter('always')
        got = [train[0] for _ in range(3)]
    said = [w for w in rec if issubclass(w.category, InvalidImageWarning)]
    assert len(said) == 1
    assert 'TrainData/img/image_1.h5: every pixel is NaN/inf/nodata; the sample is excluded ' \
           'from training' in str(said[0].message)
    assert all(Path(r['img_path']).name != 'image_1.h5' for r in got)  # another sample instead
    val = L4SDataset(data_root=str(root), split='val', pipeline=LOAD)
    with pytest.warns(InvalidImageWarning, match='kept with its mask ignored'):
        r = val[0]
    assert Path(r['img_path']).name == 'image_1.h5' and (r['gt_seg_map'] == 255).all()
    assert np.isfinite(r['img']).all()
