"""STAC Items (lszoo.geo.stac): footprint, datetime fallback, offline validation that fails on
bad extension fields."""
import json

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

pystac = pytest.importorskip('pystac')

from lszoo.geo.stac import scene_item, validate_item, write_item  # noqa: E402


def _raster(path, crs='EPSG:32633', tags=None):
    kw = dict(crs=crs, transform=from_origin(500000, 4200000, 10, 10)) if crs else {}
    with rasterio.open(path, 'w', driver='GTiff', width=40, height=30, count=1, dtype='uint8',
                       **kw) as d:
        d.write(np.zeros((1, 30, 40), np.uint8))
        if tags:
            d.update_tags(**tags)
    return str(path)


def _item(tmp_path, src, **kw):
    args = dict(model='m', config_sha256='a' * 64, checkpoint_sha256=None, threshold=0.4,
                version='0.0')
    args.update(kw)
    return scene_item(str(tmp_path / 'x.stac.json'), src, {'mask': src}, **args)


def test_datetime_falls_back_to_processing_time(tmp_path):
    src = _raster(tmp_path / 'a.tif')
    item = _item(tmp_path, src)
    assert item.properties['lszoo:datetime_source'] == 'processing time'
    assert item.datetime is not None and validate_item(item)
    lon, lat = np.array(item.geometry['coordinates'][0]).T
    assert 14.99 < lon.min() < lon.max() < 15.01 and 37.94 < lat.min() < lat.max() < 37.95
    path = write_item(item, str(tmp_path / 'x.stac.json'))
    assert json.load(open(path))['assets']['mask']['href'] == 'a.tif'


def test_no_crs_gives_null_geometry_and_still_validates(tmp_path):
    src = _raster(tmp_path / 'plain.tif', crs=None,
                  tags={'TIFFTAG_DATETIME': '2020:01:02 03:04:05'})
    with pytest.warns(rasterio.errors.NotGeoreferencedWarning):
        item = _item(tmp_path, src)
    assert item.geometry is None and item.bbox is None
    assert item.datetime.isoformat().startswith('2020-01-02T03:04:05')
    assert validate_item(item)


def test_bad_fields_fail_validation(tmp_path):
    src = _raster(tmp_path / 'a.tif')
    item = _item(tmp_path, src)
    item.properties['lszoo:config_sha256'] = 'not-a-hash'
    with pytest.raises(pystac.errors.STACValidationError, match='config_sha256'):
        validate_item(item)
    path = write_item(_item(tmp_path, src), str(tmp_path / 'x.stac.json'))
    d = json.load(open(path))
    d['properties']['datetime'] = 'yesterday'  # the core schema catches this one
    json.dump(d, open(path, 'w'))
    with pytest.raises(pystac.errors.STACValidationError):
        validate_item(path)
