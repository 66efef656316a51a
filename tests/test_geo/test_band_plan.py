"""lszoo.geo.bands: one band plan and one DEM-name rule for scene inference and InventoryDataset."""
from contextlib import ExitStack

import numpy as np
import pytest
import rasterio
import shapely
from pyogrio.raw import write as write_vector
from rasterio.transform import from_origin

from lszoo.datasets import InventoryDataset
from lszoo.errors import ConfigError, DataError
from lszoo.geo.bands import is_dem_band, plan_bands
from lszoo.geo.reader import SceneReader

CRS, X0, Y0, PX = 'EPSG:32645', 500000.0, 3100000.0, 10.0


def _raster(path, bands, size=32):
    data = np.arange(bands * size * size, dtype=np.float32).reshape(bands, size, size) % 89
    with rasterio.open(path, 'w', driver='GTiff', width=size, height=size, count=bands,
                       dtype='float32', crs=CRS, transform=from_origin(X0, Y0, PX, PX)) as dst:
        dst.write(data)
    return str(path)


def _inventory(path):
    box = shapely.box(X0 + 50, Y0 - 150, X0 + 150, Y0 - 50)
    write_vector(str(path), geometry=shapely.to_wkb(np.array([box], dtype=object)),
                 field_data=[np.array(['slide'], dtype=object)], fields=['type'], crs=CRS,
                 geometry_type='Polygon', driver='GPKG')
    return str(path)


def test_dem_rule_and_plan():
    assert all(is_dem_band(b) for b in ('DEM', 'dem', 'Elevation', 'HEIGHT', 'DSM', 'dsm'))
    assert not is_dem_band('B4') and not is_dem_band(3)
    plan = plan_bands(['R', 'dsm', 'G'], 3, ['G', 'X', 'R'], dem='dem.tif')
    assert plan.sources == [('img', 3), ('dem', 1), ('img', 1)] and plan.img_indexes == [1, 3]
    assert plan_bands(None, 2, dem='d.tif').band_names == ['band1', 'band2', 'DEM']
    with pytest.raises(ConfigError, match='give 2 channels but the model expects in_channels=3'):
        plan_bands(['R', 'DEM'], 1, ['R'], dem='d.tif', in_channels=3)
    with pytest.raises(DataError, match=r'DEM d\.tif given, but the bands \[.R.\] hold no'):
        plan_bands(['R'], 1, ['R'], dem='d.tif')


def test_dsm_band_is_accepted_by_both(tmp_path):
    scene, dem = _raster(tmp_path / 's.tif', 3), _raster(tmp_path / 'dem.tif', 1)
    bands = ['band1', 'band2', 'band3', 'DSM']
    ds = InventoryDataset(scenes=scene, inventory=_inventory(tmp_path / 'inv.gpkg'), dem=dem,
                          split='all', window_size=32, bands=bands)
    assert ds.band_names == bands and dict(ds.stream_layout) == {'optical': [0, 1, 2],
                                                                 'topo': [3]}
    with ExitStack() as stack:
        reader = SceneReader(stack, scene, dem, bands, 4, ['band1', 'band2', 'band3'])
        got = reader.read(0, 8, 0, 8)
    with rasterio.open(dem) as src:
        np.testing.assert_array_equal(got[3], src.read(1)[:8, :8])


def test_dsm_band_without_dem_is_refused_by_both_alike(tmp_path):
    scene = _raster(tmp_path / 's.tif', 3)
    bands = ['band1', 'DSM']
    with pytest.raises(DataError) as from_dataset:
        InventoryDataset(scenes=scene, inventory=_inventory(tmp_path / 'inv.gpkg'),
                         split='all', window_size=32, bands=bands)
    with pytest.raises(DataError) as from_scene, ExitStack() as stack:
        SceneReader(stack, scene, None, bands, 2, ['band1', 'band2', 'band3'])
    assert str(from_dataset.value) == str(from_scene.value)
    assert "lacks band(s) ['DSM']" in str(from_scene.value)
    assert 'DEM raster' in str(from_scene.value)
