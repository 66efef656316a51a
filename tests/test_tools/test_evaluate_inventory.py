"""tools/evaluate_inventory.py on tiny GeoJSON / GeoTIFF inventories: tables, JSON, GeoPackage,
figures, a CRS pair, and one clear error or named warning for bad input."""
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest
import rasterio
import shapely
from rasterio.crs import CRS
from rasterio.transform import from_origin

from lszoo.datasets.inventory_vector import reproject_geoms

UTM = CRS.from_epsg(32645)
X0, Y0 = 500000.0, 3100000.0


@pytest.fixture(scope='module')
def tool(repo_root):
    spec = importlib.util.spec_from_file_location(
        'lszoo_tool_evaluate_inventory', osp.join(repo_root, 'tools', 'evaluate_inventory.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _geojson(path, geoms, crs=UTM, driver='GeoJSON'):
    import pyogrio.raw
    pyogrio.raw.write(str(path), geometry=shapely.to_wkb(np.array(geoms, object)),
                      field_data=[np.arange(len(geoms))], fields=['fid_'], driver=driver,
                      geometry_type='Polygon', crs=None if crs is None else crs.to_wkt())
    return str(path)


def _box(c0, r0, c1, r1):
    """A box in pixel columns/rows of a 10 m grid at (X0, Y0)."""
    return shapely.box(X0 + 10 * c0, Y0 - 10 * r1, X0 + 10 * c1, Y0 - 10 * r0)


REF = [_box(2, 2, 12, 12), _box(20, 2, 30, 12), _box(2, 20, 4, 22), _box(20, 20, 40, 40)]


def _mask_tif(path, mask):
    with rasterio.open(path, 'w', driver='GTiff', width=mask.shape[1], height=mask.shape[0],
                       count=1, dtype='uint8', crs=UTM, transform=from_origin(X0, Y0, 10, 10),
                       nodata=255) as dst:
        dst.write(mask, 1)
    return str(path)


def test_mask_prediction_against_a_reference_in_another_crs(tool, tmp_path, capsys):
    mask = np.zeros((48, 48), np.uint8)
    mask[2:12, 2:12] = 1                          # hit (IoU 1)
    mask[2:12, 20:23] = 1                         # 30 % of the second: loose hit only
    mask[42:46, 42:46] = 1                        # false
    mask[20:40, 20:40] = 1                        # hit, 20x20 = 40000 m²
    pred = _mask_tif(tmp_path / 'pred.tif', mask)
    ref = _geojson(tmp_path / 'ref.geojson', reproject_geoms(REF, UTM, 'EPSG:4326'),
                   CRS.from_epsg(4326))
    out = tmp_path / 'out.json'
    rc = tool.main([pred, ref, '--json', str(out), '--gpkg', str(tmp_path / 'm.gpkg'),
                    '--map', str(tmp_path / 'map.png'), '--area-figure',
                    str(tmp_path / 'af.png'), '--size-classes', '1000', '20000',
                    '--bootstrap', '100', '--block-size', '100'])
    assert rc == 0
    text = capsys.readouterr().out
    assert 'strict: IoU >= 0.5' in text and 'by size class' in text and 'tail alpha' in text
    r = json.loads(out.read_text())
    assert (r['n_ref'], r['n_pred']) == (4, 4)
    assert r['object_recall'] == pytest.approx(0.5) and r['object_precision'] == 0.5
    assert r['object_recall_loose'] == 0.75 and r['object_precision_loose'] == 0.75
    classes = {c['size_class']: c for c in r['size_classes']}
    assert classes['<1000m2']['n_ref'] == 1 and classes['<1000m2']['object_recall'] == 0
    assert classes['1000-20000m2']['n_ref'] == 2
    assert classes['1000-20000m2']['object_recall'] == 0.5
    assert classes['>=20000m2']['n_ref'] == 1 and classes['>=20000m2']['object_recall'] == 1
    assert r['ref_area'] == pytest.approx(10000 + 10000 + 400 + 40000, rel=1e-6)
    assert set(r['intervals']) >= {'object_recall', 'object_f1@<1000m2'}
    import pyogrio.raw
    meta, _, _, fields = pyogrio.raw.read(str(tmp_path / 'm.gpkg'), layer='reference')
    st = fields[meta['fields'].tolist().index('status')]
    assert sorted(st.tolist()) == ['hit', 'hit', 'missed', 'missed']
    for png in ('map.png', 'af.png'):
        assert (tmp_path / png).stat().st_size > 1000


def test_same_inventory_scores_one_and_min_area(tool, tmp_path):
    ref = _geojson(tmp_path / 'ref.geojson', REF)
    out = tmp_path / 'same.json'
    assert tool.main([ref, ref, '--json', str(out), '--bootstrap', '0']) == 0
    r = json.loads(out.read_text())
    assert r['object_f1'] == 1 and r['n_ref'] == 4 and r['intervals'] == {}
    assert tool.main([ref, ref, '--json', str(out), '--bootstrap', '0',
                      '--min-area', '1000']) == 0
    assert json.loads(out.read_text())['n_ref'] == 3


def test_aoi_clips_both_inventories(tool, tmp_path):
    ref = _geojson(tmp_path / 'ref.geojson', REF)
    aoi = _geojson(tmp_path / 'aoi.geojson', [_box(0, 0, 16, 16)])
    out = tmp_path / 'aoi.json'
    assert tool.main([ref, ref, '--aoi', aoi, '--json', str(out), '--bootstrap', '0']) == 0
    assert json.loads(out.read_text())['n_ref'] == 1


@pytest.mark.filterwarnings('ignore:.crs. was not provided')
def test_bad_inputs_give_one_error_line(tool, tmp_path, capsys):
    ref = _geojson(tmp_path / 'ref.geojson', REF)
    far = _geojson(tmp_path / 'far.geojson', [shapely.affinity.translate(g, 1e5, 0)
                                               for g in REF])
    nocrs = _geojson(tmp_path / 'nocrs.shp', REF, crs=None, driver='ESRI Shapefile')
    utm_as_wgs84 = _geojson(tmp_path / 'nocrs.geojson', REF, crs=None)  # GeoJSON default
    geo = _geojson(tmp_path / 'geo.geojson', reproject_geoms(REF, UTM, 'EPSG:4326'),
                   CRS.from_epsg(4326))
    cases = [([far, ref], 'do not overlap'),
             ([nocrs, ref], 'no CRS'),
             ([utm_as_wgs84, ref], 'cannot reproject'),
             ([geo, geo], 'projected CRS'),
             ([ref, str(tmp_path / 'missing.gpkg')], 'no such file'),
             ([ref, ref, '--size-classes', '10', '5'], 'increasing')]
    for argv, message in cases:
        capsys.readouterr()
        assert tool.main(argv + ['--bootstrap', '0']) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith('lszoo: error:') and message in err[0]
        assert 'np.' not in err[0]  # plain numbers, not NumPy reprs


def test_empty_prediction_and_invalid_geometry_warn(tool, tmp_path):
    from lszoo.apis.inventory.io import EmptyInventoryWarning
    from lszoo.datasets.inventory_vector import InventoryWarning
    ref = _geojson(tmp_path / 'ref.geojson', REF)
    empty = _mask_tif(tmp_path / 'empty.tif', np.zeros((48, 48), np.uint8))
    out = tmp_path / 'e.json'
    with pytest.warns(EmptyInventoryWarning, match='no predicted landslide'):
        assert tool.main([empty, ref, '--json', str(out), '--bootstrap', '0']) == 0
    assert json.loads(out.read_text())['object_recall'] == 0
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 100, Y0 - 100), (X0 + 100, Y0), (X0, Y0 - 100)])
    bad = _geojson(tmp_path / 'bad.geojson', REF + [bowtie])
    with pytest.warns(InventoryWarning, match='invalid'):
        assert tool.main([bad, ref, '--bootstrap', '0']) == 0


def test_merge_touching_joins_corner_neighbours(tmp_path):
    from lszoo.apis.inventory.io import merge_touching
    geoms = np.array([_box(0, 0, 2, 2), _box(2, 2, 3, 3), _box(10, 10, 11, 11)], object)
    merged = merge_touching(geoms)
    assert len(merged) == 2 and sorted(shapely.area(merged).tolist()) == [100.0, 500.0]


def test_probability_map_calibration(tool, tmp_path, capsys):
    """ECE and Brier of a probability GeoTIFF against the rasterised reference equal a direct
    NumPy computation on the same pixels."""
    from lszoo.evaluation.probability_calibration import expected_calibration_error
    ref = _geojson(tmp_path / 'ref.geojson', REF)
    label = np.zeros((48, 48), np.uint8)
    for c0, r0, c1, r1 in ((2, 2, 12, 12), (20, 2, 30, 12), (2, 20, 4, 22), (20, 20, 40, 40)):
        label[r0:r1, c0:c1] = 1
    prob = np.clip(0.8 * label + np.random.default_rng(0).random(label.shape) * 0.3, 0, 1)
    prob = prob.astype(np.float32)
    prob[0, :] = -1                                # nodata row
    path = tmp_path / 'prob.tif'
    with rasterio.open(path, 'w', driver='GTiff', width=48, height=48, count=1, dtype='float32',
                       crs=UTM, transform=from_origin(X0, Y0, 10, 10), nodata=-1, tiled=True,
                       blockxsize=16, blockysize=16) as dst:
        dst.write(prob, 1)
    out = tmp_path / 'cal.json'
    assert tool.main([ref, ref, '--bootstrap', '0', '--prob', str(path), '--reliability',
                      str(tmp_path / 'rel.png'), '--json', str(out)]) == 0
    cal = json.loads(out.read_text())['calibration']
    p, y = prob[1:].astype(np.float64).ravel(), label[1:].ravel()
    assert cal['n_pixels'] == p.size
    assert cal['brier'] == pytest.approx(np.mean((p - y) ** 2))
    assert cal['ece'] == pytest.approx(expected_calibration_error(p, y, 15))
    assert (tmp_path / 'rel.png').stat().st_size > 1000
    assert 'ECE' in capsys.readouterr().out
