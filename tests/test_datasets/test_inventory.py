"""InventoryDataset: windows read on the fly, rasterised labels, spatial splits, bad input."""
import os.path as osp
import numpy as np
import pytest
import rasterio
import shapely
from pyogrio.raw import write as write_vector
from rasterio.transform import from_origin

from helpers import REPO
from lszoo.datasets import InventoryDataset
from lszoo.datasets.inventory_vector import InventoryWarning, reproject_geoms
from lszoo.datasets.spatial_split import SPLITS, read_blocks
from lszoo.datasets.transforms import LoadInventoryWindow
from lszoo.errors import ConfigError, DataError

CRS = 'EPSG:32645'
X0, Y0, PX = 500000.0, 3100000.0, 10.0


def write_scene(path, size=64, bands=3, x0=X0, y0=Y0, crs=CRS, nodata=None):
    data = np.arange(bands * size * size, dtype=np.float32).reshape(bands, size, size) % 97 + 1
    with rasterio.open(path, 'w', driver='GTiff', width=size, height=size, count=bands,
                       dtype='float32', crs=crs, transform=from_origin(x0, y0, PX, PX),
                       nodata=nodata) as dst:
        dst.write(data)
    return str(path)


def write_inventory(path, geoms, crs=CRS, types=None):
    geoms = np.asarray(geoms, dtype=object)
    types = types or ['slide'] * len(geoms)
    write_vector(str(path), geometry=shapely.to_wkb(geoms),
                 field_data=[np.array(types, dtype=object)], fields=['type'], crs=crs,
                 geometry_type='Polygon', driver='GPKG')
    return str(path)


def pixel_box(r0, c0, r1, c1, x0=X0, y0=Y0):
    """Polygon covering pixel rows r0..r1-1 and cols c0..c1-1 exactly."""
    return shapely.box(x0 + c0 * PX, y0 - r1 * PX, x0 + c1 * PX, y0 - r0 * PX)


def load(ds, idx):
    return LoadInventoryWindow()(ds.get_data_info(idx))


def test_labels_match_hand_made_polygon(tmp_path):
    scene = write_scene(tmp_path / 's.tif')
    tri = shapely.Polygon([(X0 + 33, Y0 - 47), (X0 + 517, Y0 - 95), (X0 + 205, Y0 - 488)])
    inv = write_inventory(tmp_path / 'inv.gpkg', [tri])
    ds = InventoryDataset(scenes=scene, inventory=inv, split='all', window_size=64)
    assert len(ds) == 1
    out = load(ds, 0)
    rows, cols = np.mgrid[0:64, 0:64]
    cx, cy = X0 + (cols + 0.5) * PX, Y0 - (rows + 0.5) * PX
    expected = shapely.contains_xy(tri, cx, cy).astype(np.uint8)  # pixel centre inside
    assert expected.sum() > 100
    np.testing.assert_array_equal(out['gt_seg_map'], expected)
    assert out['img'].shape == (64, 64, 3) and out['img'].dtype == np.float32


def test_inventory_in_other_crs_is_reprojected(tmp_path):
    scene = write_scene(tmp_path / 's.tif')
    rect = pixel_box(10, 20, 30, 45)
    inv = write_inventory(tmp_path / 'inv.gpkg', reproject_geoms([rect], CRS, 'EPSG:4326'),
                          crs='EPSG:4326')
    ds = InventoryDataset(scenes=scene, inventory=inv, split='all', window_size=32)
    assert len(ds) == 4  # a 2 x 2 grid of windows
    mosaic = np.zeros((64, 64), np.uint8)
    for i in range(len(ds)):
        out = load(ds, i)
        x, y, w, h = out['window']
        mosaic[y:y + h, x:x + w] = out['gt_seg_map']
    expected = np.zeros((64, 64), np.uint8)
    expected[10:30, 20:45] = 1
    np.testing.assert_array_equal(mosaic, expected)


def test_ignore_buffer_marks_polygon_edges(tmp_path):
    scene = write_scene(tmp_path / 's.tif')
    inv = write_inventory(tmp_path / 'inv.gpkg', [pixel_box(10, 10, 40, 40)])
    ds = InventoryDataset(scenes=scene, inventory=inv, split='all', window_size=64,
                          ignore_buffer=15.0)  # 1.5 pixels either side of the edge
    lab = load(ds, 0)['gt_seg_map']
    assert lab[25, 25] == 1 and lab[2, 2] == 0
    assert lab[10, 25] == 255 and lab[9, 25] == 255 and lab[8, 25] == 255  # centres <= 15 m
    assert lab[7, 25] == 0 and lab[12, 25] == 1


def test_window_sampling_reads_only_windows(tmp_path, monkeypatch):
    scene = write_scene(tmp_path / 's.tif', size=128)
    dem = tmp_path / 'dem.tif'  # coarser, shifted grid; elevation linear in x and y
    dx, dy = np.meshgrid(np.arange(50), np.arange(50))
    x0d, y0d = X0 - 105.0, Y0 + 95.0
    dem_vals = (100 + 2.0 * (x0d + (dx + 0.5) * 30 - X0) / 30 + 1.0 * (y0d - (dy + 0.5) * 30 - Y0)
                / 30).astype(np.float32)
    with rasterio.open(dem, 'w', driver='GTiff', width=50, height=50, count=1, dtype='float32',
                       crs=CRS, transform=from_origin(x0d, y0d, 30, 30)) as dst:
        dst.write(dem_vals, 1)
    inv = write_inventory(tmp_path / 'inv.gpkg', [pixel_box(40, 40, 70, 80)])
    calls = []
    for cls in (rasterio.io.DatasetReader, rasterio.vrt.WarpedVRT):
        orig = cls.read

        def spy(self, *args, _orig=orig, **kwargs):
            calls.append((self.name, kwargs.get('window')))
            return _orig(self, *args, **kwargs)
        monkeypatch.setattr(cls, 'read', spy)
    ds = InventoryDataset(scenes=scene, inventory=inv, dem=str(dem), split='train',
                          split_mode='scenes', scene_splits=dict(train=['s']),
                          window_size=32, num_windows=6, positive_fraction=0.5)
    assert ds.band_names == ['band1', 'band2', 'band3', 'DEM']
    loader = LoadInventoryWindow()
    for i in range(len(ds)):
        out = loader(ds.get_data_info(i))
        assert out['img'].shape == (32, 32, 4)
        x, y, _, _ = out['window']
        # the DEM warped onto the scene grid: the linear surface, up to float rounding
        cols, rows = np.meshgrid(np.arange(x, x + 32) + 0.5, np.arange(y, y + 32) + 0.5)
        np.testing.assert_allclose(out['img'][..., 3], 100 + 2.0 * cols * PX / 30 -
                                   rows * PX / 30, atol=1e-3)
    assert calls, 'no rasterio read was observed'
    for name, win in calls:
        assert win is not None, f'{name} was read whole'
        assert win.width <= 32 and win.height <= 32, (name, win)


def test_spatial_split_no_block_on_two_sides(tmp_path):
    a = write_scene(tmp_path / 'a.tif', size=96)
    b = write_scene(tmp_path / 'b.tif', size=96, x0=X0 + 96 * PX + 55)
    inv = write_inventory(tmp_path / 'inv.gpkg',
                          [pixel_box(r, c, r + 6, c + 6) for r in range(4, 90, 20)
                           for c in range(4, 90, 20)])
    split_file = tmp_path / 'blocks.geojson'
    common = dict(scenes=[a, b], inventory=inv, block_size=160.0, window_size=16,
                  split_file=str(split_file), split_seed=3)
    ds = {s: InventoryDataset(split=s, num_windows=50, **common) for s in SPLITS}
    blocks, size = read_blocks(split_file)
    assert size == 160.0 and len({(k.ix, k.iy) for k in blocks}) == len(blocks)
    assert {k.split for k in blocks} == set(SPLITS)
    owner = {}
    for s, d in ds.items():
        for i, r0, c0, r1, c1 in d._regions:
            for r in range(r0, r1):
                for c in range(c0, c1):
                    assert owner.setdefault((i, r, c), s) == s, 'pixel in two splits'
    for i in range(len(ds['train'])):  # random training windows stay inside train blocks
        info = ds['train'].get_data_info(i)
        x, y, w, h = info['window']
        assert all(owner.get((info['scene'], y + dy, x + dx)) == 'train'
                   for dy in (0, h - 1) for dx in (0, w - 1))
    # the file is re-read, not redrawn: another seed gives the same blocks
    again = InventoryDataset(split='val', **dict(common, split_seed=99))
    assert again._regions == ds['val']._regions


# ---------------------------------------------------------------------------- bad input
def test_inventory_outside_scenes_is_an_error(tmp_path):
    scene = write_scene(tmp_path / 's.tif')
    inv = write_inventory(tmp_path / 'far.gpkg', [pixel_box(0, 0, 5, 5, x0=X0 + 1e5)])
    with pytest.raises(DataError, match=r'far\.gpkg: no polygon overlaps any scene') as err:
        InventoryDataset(scenes=scene, inventory=inv, split='all')
    assert 'np.' not in str(err.value)  # plain numbers, not NumPy reprs


def test_scene_without_polygon_warns(tmp_path):
    a = write_scene(tmp_path / 'a.tif')
    b = write_scene(tmp_path / 'b.tif', x0=X0 + 5000)
    inv = write_inventory(tmp_path / 'inv.gpkg', [pixel_box(5, 5, 10, 10)])
    with pytest.warns(InventoryWarning, match=r'b\.tif: no inventory polygon'):
        InventoryDataset(scenes=[a, b], inventory=inv, split='all')


def test_mixed_crs_is_an_error_for_blocks(tmp_path):
    a = write_scene(tmp_path / 'a.tif')
    b = write_scene(tmp_path / 'b.tif', crs='EPSG:32644')
    inv = write_inventory(tmp_path / 'inv.gpkg', [pixel_box(5, 5, 10, 10)])
    with pytest.raises(DataError, match=r'mixed CRSs.*b\.tif'):
        InventoryDataset(scenes=[a, b], inventory=inv, block_size=320)


def test_invalid_and_empty_geometries_are_reported(tmp_path):
    scene = write_scene(tmp_path / 's.tif')
    bowtie = shapely.Polygon([(X0 + 10, Y0 - 10), (X0 + 200, Y0 - 200), (X0 + 200, Y0 - 10),
                              (X0 + 10, Y0 - 200)])
    inv = write_inventory(tmp_path / 'inv.gpkg', [bowtie, shapely.Polygon()])
    with pytest.warns(InventoryWarning) as rec:
        ds = InventoryDataset(scenes=scene, inventory=inv, split='all', window_size=64)
    text = ' '.join(str(w.message) for w in rec)
    assert 'inv.gpkg: 1 empty' in text and 'inv.gpkg: 1 invalid polygon(s) repaired' in text
    assert load(ds, 0)['gt_seg_map'].sum() > 50  # the repaired bow-tie is still labelled


def test_attribute_filter_that_keeps_nothing(tmp_path):
    scene = write_scene(tmp_path / 's.tif')
    inv = write_inventory(tmp_path / 'inv.gpkg', [pixel_box(5, 5, 10, 10)], types=['slide'])
    with pytest.raises(DataError, match=r'inv\.gpkg: no landslide polygons: the attribute'):
        InventoryDataset(scenes=scene, inventory=inv, split='all',
                         attribute_filter=dict(type='debris flow'))
    ds = InventoryDataset(scenes=scene, inventory=inv, split='all',
                          attribute_filter="type = 'slide'")
    assert len(ds.polygons[0]) == 1


def test_dem_not_covering_scene_is_an_error(tmp_path):
    scene = write_scene(tmp_path / 's.tif')
    dem = write_scene(tmp_path / 'dem.tif', bands=1, x0=X0 + 1e4)
    inv = write_inventory(tmp_path / 'inv.gpkg', [pixel_box(5, 5, 10, 10)])
    with pytest.raises(DataError, match=r'dem\.tif: the DEM does not cover scene'):
        InventoryDataset(scenes=scene, inventory=inv, dem=dem, split='all')


def test_scenes_with_different_band_counts(tmp_path):
    a = write_scene(tmp_path / 'a.tif', bands=3)
    b = write_scene(tmp_path / 'b.tif', bands=4)
    inv = write_inventory(tmp_path / 'inv.gpkg', [pixel_box(5, 5, 10, 10)])
    with pytest.raises(DataError, match=r'different band counts \(a\.tif: 3, b\.tif: 4\)'):
        InventoryDataset(scenes=[a, b], inventory=inv, split='all')


def test_block_size_larger_than_scenes(tmp_path):
    scene = write_scene(tmp_path / 's.tif')
    inv = write_inventory(tmp_path / 'inv.gpkg', [pixel_box(5, 5, 10, 10)])
    with pytest.raises(ConfigError, match='block_size is too large'):
        InventoryDataset(scenes=scene, inventory=inv, block_size=1e5,
                         split_file=str(tmp_path / 'b.geojson'))


def test_unknown_band_names_the_scene(tmp_path):
    scene = write_scene(tmp_path / 's.tif')
    inv = write_inventory(tmp_path / 'inv.gpkg', [pixel_box(5, 5, 10, 10)])
    with pytest.raises(DataError, match=r"s\.tif lacks band\(s\) \['DEM'\].*DEM raster"):
        InventoryDataset(scenes=scene, inventory=inv, split='all', bands=[0, 'DEM'])


def test_missing_data_root_names_the_option(tmp_path):
    with pytest.raises(DataError, match=r"data_root '.*nowhere' does not exist.*"
                                        r'train_dataloader\.dataset\.data_root'):
        InventoryDataset(scenes='scenes', inventory='inv.gpkg', data_root=str(tmp_path / 'nowhere'))


def test_relative_paths_under_data_root(tmp_path):
    (tmp_path / 'scenes').mkdir()
    write_scene(tmp_path / 'scenes' / 'x.tif')
    write_inventory(tmp_path / 'inv.gpkg', [pixel_box(5, 5, 10, 10)])
    ds = InventoryDataset(scenes='scenes', inventory='inv.gpkg', data_root=str(tmp_path),
                          split='all', window_size=64)
    assert load(ds, 0)['gt_seg_map'].sum() == 25


def test_nodata_pixels_are_filled_and_ignored(tmp_path):
    path = tmp_path / 's.tif'
    write_scene(path, nodata=-1.0)
    with rasterio.open(path, 'r+') as dst:
        data = dst.read()
        data[:, :4, :4] = -1.0
        dst.write(data)
    inv = write_inventory(tmp_path / 'inv.gpkg', [pixel_box(0, 0, 10, 10)])
    ds = InventoryDataset(scenes=str(path), inventory=inv, split='all', window_size=64)
    with pytest.warns(UserWarning, match=r's\.tif: 16 nodata pixels') as rec:
        out = load(ds, 0)
    message = next(str(w.message) for w in rec if 'nodata pixels' in str(w.message))
    assert '(x, y, w, h) = (0, 0, 64, 64)' in message and 'np.' not in message
    assert (out['gt_seg_map'][:4, :4] == 255).all() and out['gt_seg_map'][5, 5] == 1
    assert (out['img'][:4, :4] != -1).all()


def test_scene_mapping_leaves_the_window_loader_out():
    from mmengine.config import Config

    from lszoo.apis.scene.predictor import build_normalizer
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'demo', 'inventory_synthetic.py'))
    norm = build_normalizer(cfg, cfg.bands)
    assert norm.steps == ['NormalizeBands']


def test_scenes_in_two_crss_each_get_the_inventory_in_their_crs(tmp_path):
    from rasterio.warp import transform as warp_xy
    a = write_scene(tmp_path / 'a.tif')
    xb, yb = warp_xy(CRS, 'EPSG:32644', [X0 + 5000], [Y0])  # b: same place, UTM zone 44
    b = write_scene(tmp_path / 'b.tif', x0=round(xb[0]), y0=round(yb[0]), crs='EPSG:32644')
    rect_b = pixel_box(20, 20, 30, 40, x0=round(xb[0]), y0=round(yb[0]))
    geoms = [pixel_box(5, 5, 15, 15)] + list(reproject_geoms([rect_b], 'EPSG:32644', CRS))
    inv = write_inventory(tmp_path / 'inv.gpkg', reproject_geoms(geoms, CRS, 'EPSG:4326'),
                          crs='EPSG:4326')
    ds = InventoryDataset(scenes=[a, b], inventory=inv, split_mode='scenes', split='test',
                          scene_splits=dict(test=['a', 'b']), window_size=64)
    labels = {out['img_path']: out['gt_seg_map'] for out in (load(ds, 0), load(ds, 1))}
    expected = np.zeros((64, 64), np.uint8)
    expected[20:30, 20:40] = 1
    np.testing.assert_array_equal(labels[b], expected)
    assert labels[a][5:15, 5:15].all() and labels[a].sum() == 100
