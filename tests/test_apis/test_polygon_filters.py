"""Polygon inventory clean-up: minimum landslide area and hole filling, in map units or pixels."""
import numpy as np
import pytest
from affine import Affine
from rasterio.crs import CRS

from lszoo.apis.scene.options import SceneOptions
from lszoo.apis.scene.polygon_filters import parse_area
from lszoo.apis.scene.polygons import PolygonCollector
from lszoo.errors import ConfigError

WKT = CRS.from_epsg(32645).to_wkt()
T10 = Affine(10.0, 0.0, 500000.0, 0.0, -10.0, 3100000.0)  # 10 m pixels: 100 m² each


def _scene():
    m = np.zeros((16, 16), np.uint8)
    m[1:8, 1:8] = 1                               # a 7x7 landslide with two holes:
    m[2, 2] = 0                                   # 1 pixel (100 m²)
    m[4:6, 4:7] = 0                               # 2x3 pixels (600 m²)
    m[12, 12:14] = 1                              # a 2-pixel speck (200 m²)
    return m


def _read(path):
    import pyogrio.raw
    import shapely
    meta, _, wkb, fields = pyogrio.raw.read(str(path))
    names = meta['fields'].tolist()
    return shapely.from_wkb(wkb), {k: fields[names.index(k)] for k in names}


def _collect(path, mask, **kw):
    col = PolygonCollector(str(path), 16, 16, T10, WKT, **kw)
    prob = mask.astype(np.float32)
    for r in (0, 8):
        for c in (0, 8):
            col.add_block(mask[r:r + 8, c:c + 8], prob[r:r + 8, c:c + 8], r, c)
    return col.close()


@pytest.mark.parametrize('ext', ['gpkg', 'geojson'])
def test_min_area_and_hole_filling(tmp_path, ext):
    import shapely
    mask = _scene()
    from scipy import ndimage
    n_all = ndimage.label(mask)[1]
    assert _collect(tmp_path / f'all.{ext}', mask) == n_all      # default: keep everything
    # 300 m² = 3 pixels: the 2-pixel speck goes; map units and pixels give the same result
    n = _collect(tmp_path / f'a.{ext}', mask, min_area=300.0, fill_holes='2px')
    assert n == _collect(tmp_path / f'b.{ext}', mask, min_area='3px', fill_holes=200) == n_all - 1
    geoms, f = _read(tmp_path / f'a.{ext}')
    assert f['n_pixels'].min() >= 3 and sorted(f['id'].tolist()) == list(range(1, n + 1))
    big = int(np.argmax(f['n_pixels']))
    holes = [shapely.area(shapely.Polygon(r)) for r in geoms[big].interiors]
    assert holes == [pytest.approx(600.0)]                      # 1-pixel hole filled, 6 kept
    assert f['area'][big] == pytest.approx(f['n_pixels'][big] * 100 + 100)
    assert f['mean_prob'][big] == pytest.approx(1.0)
    _collect(tmp_path / f'c.{ext}', mask, fill_holes=1000.0)    # both holes filled
    geoms, f = _read(tmp_path / f'c.{ext}')
    assert sum(len(g.interiors) for g in geoms) == 0


def test_a_landslide_across_block_edges_is_measured_whole(tmp_path):
    """Two 2-pixel pieces in different blocks make one 4-pixel landslide: kept at 4 px."""
    mask = np.zeros((16, 16), np.uint8)
    mask[7:9, 7:9] = 1
    assert _collect(tmp_path / 'x.gpkg', mask, min_area='4px') == 1
    assert _collect(tmp_path / 'y.gpkg', mask, min_area='5px') == 0
    geoms, _ = _read(tmp_path / 'y.gpkg')
    assert len(geoms) == 0


def test_bad_area_options():
    assert parse_area('5px') == (5.0, True) and parse_area(250) == (250.0, False)
    with pytest.raises(ConfigError, match='min_area'):
        SceneOptions(min_area='five')
    with pytest.raises(ConfigError, match='fill_holes must be >= 0'):
        SceneOptions(fill_holes=-1)
