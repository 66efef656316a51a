"""Sen12LandslidesDataset on hand-built NetCDF patches whose every value is known."""
import json
from collections import OrderedDict

import numpy as np
import pytest

from lszoo.datasets.sen12landslides import SENSOR_BANDS, Sen12LandslidesDataset, parse_pre_post
from lszoo.datasets.synthetic_sen12 import write_patch_nc
from lszoo.errors import ConfigError, DataError

S = 8  # patch size
T = 15
PRE, POST = 6, 7
LOAD = [dict(type='LoadSen12Sample')]
NORM = [dict(type='LoadSen12Sample'), dict(type='Sen12Normalize')]


def s2_value(b, t, r, c):
    """Band b (index), date t, row r (y), column c (x): unique and inside [0, 10000]."""
    return 1000 * b + 64 * t + 8 * r + c


def s1_value(b, t, r, c):
    return -(10.0 * b + t + 0.1 * r + 0.01 * c)


def _grid():
    t, r, c = np.meshgrid(np.arange(T), np.arange(S), np.arange(S), indexing='ij')
    return t, r, c


def patch_vars(sensor, n_dates=T):
    t, r, c = _grid()
    t, r, c = t[:n_dates], r[:n_dates], c[:n_dates]
    out = OrderedDict()
    for b, name in enumerate(SENSOR_BANDS[sensor]):
        if sensor == 's2':
            out[name] = s2_value(b, t, r, c).astype(np.int16)
        else:
            out[name] = s1_value(b, t, r, c).astype(np.float32)
    if sensor == 's2':
        scl = np.full(t.shape, 4, np.int16)
        scl[2, 1, 3] = 9  # a cloud at date 2, row 1, column 3
        scl[PRE, 0, 0] = 3  # a shadow on the last pre date
        out['SCL'] = scl
    mask = np.zeros(t.shape, np.uint8)
    mask[:, 2:4, 5:7] = 1
    out['MASK'] = mask
    out['DEM'] = (100 * r + c).astype(np.int16)
    return out


def write_root(root, sensors=('s2',), dim_order='xy', n_dates=T, pre_post=None, ids=(0, 1, 2),
               drop=None, norm=None):
    data = root / 'data' / 'data_harmonized'
    times = np.datetime64('2022-01-05') + np.arange(n_dates) * np.timedelta64(12, 'D')
    splits = {'train': [], 'val': [], 'test': []}
    for k, i in enumerate(ids):
        entry = {'id': f'reg_{i}'}
        for s in sensors:
            rel = f'{s}/reg_{s}_{i}.nc'
            variables = patch_vars(s, n_dates)
            if drop:
                variables.pop(drop)
            attrs = OrderedDict(event_date='2022-03-20', annotated='True', crs='EPSG:32632',
                                pre_post_dates=pre_post or str({'pre': PRE, 'post': POST}))
            write_patch_nc(data / rel, variables, times, np.arange(S) * 10.0,
                           -np.arange(S) * 10.0, attrs, dim_order)
            entry[s] = rel
        splits[('train', 'train', 'test')[k % 3]].append(entry)
    tasks = root / 'tasks' / 'S12LS-LD' / 'harmonized'
    stats = norm or {s: {'mean': {b: 0.0 for b in SENSOR_BANDS[s] + ('DEM',)},
                         'std': {b: 1.0 for b in SENSOR_BANDS[s] + ('DEM',)}} for s in sensors}
    if len(sensors) == 1:
        (tasks / sensors[0]).mkdir(parents=True, exist_ok=True)
        (tasks / sensors[0] / 'splits.json').write_text(json.dumps(splits))
        (tasks / sensors[0] / 'norm.json').write_text(json.dumps(stats))
    else:
        tasks.mkdir(parents=True, exist_ok=True)
        (tasks / 'splits_aligned.json').write_text(json.dumps(splits))
        (tasks / 'norm_aligned.json').write_text(json.dumps(stats))
    return root


def build(root, pipeline=LOAD, **kw):
    return Sen12LandslidesDataset(data_root=str(root), split=kw.pop('split', 'train'),
                                  pipeline=pipeline, **kw)


@pytest.mark.parametrize('dim_order', ['xy', 'yx'])
def test_all_dates_values_orientation_and_mask(tmp_path, dim_order):
    ds = build(write_root(tmp_path, dim_order=dim_order), scl_mask=None)
    out = ds[0]
    img = out['img']
    assert img.dtype == np.float32 and img.shape == (S, S, T * 10 + 1)
    assert out['band_names'][:2] == ['s2.B02@t00', 's2.B03@t00'] and out['band_names'][-1] == 'DEM'
    assert out['stream_layout'] == {'series': list(range(150)), 'dem': [150]}
    t, r, c = _grid()
    for b in range(10):
        for tt in (0, 7, 14):
            np.testing.assert_array_equal(img[..., tt * 10 + b], s2_value(b, tt, r[0], c[0]))
    np.testing.assert_array_equal(img[..., -1], 100 * r[0] + c[0])  # rows are y
    assert out['gt_seg_map'].dtype == np.uint8 and out['gt_seg_map'][2:4, 5:7].all()
    assert out['gt_seg_map'].sum() == 4
    assert out['dates_read'][0] == '2022-01-05' and len(out['dates_read']) == T
    assert out['pre_post'] == (PRE, POST)


def test_date_modes_and_bands_by_name(tmp_path):
    root = write_root(tmp_path)
    _, r, c = _grid()
    post = build(root, dates='post', bands=['B08', 'B04'], scl_mask=None)[0]
    assert post['band_names'] == ['s2.B08@post', 's2.B04@post', 'DEM']
    np.testing.assert_array_equal(post['img'][..., 0], s2_value(6, POST, r[0], c[0]))
    np.testing.assert_array_equal(post['img'][..., 1], s2_value(2, POST, r[0], c[0]))
    pp = build(root, dates='pre_post', bands=['B02'], dem=False, scl_mask=None)[0]
    assert pp['stream_layout'] == {'pre': [0], 'post': [1]}
    np.testing.assert_array_equal(pp['img'][..., 0], s2_value(0, PRE, r[0], c[0]))
    np.testing.assert_array_equal(pp['img'][..., 1], s2_value(0, POST, r[0], c[0]))
    comp = build(root, dates='composite', bands=['B02'], dem=False, scl_mask=None)[0]
    # median of dates 0..PRE and POST..14 of a value linear in t
    np.testing.assert_allclose(comp['img'][..., 0], s2_value(0, PRE / 2, r[0], c[0]))
    np.testing.assert_allclose(comp['img'][..., 1], s2_value(0, (POST + T - 1) / 2, r[0], c[0]))
    win = build(root, dates='composite', bands=['B02'], dem=False, composite_window=2,
                composite='mean', scl_mask=None)[0]
    np.testing.assert_allclose(win['img'][..., 0], s2_value(0, PRE - 0.5, r[0], c[0]))


def test_scl_mask_blanks_clouds_and_normalise_fills_them(tmp_path):
    root = write_root(tmp_path)
    raw = build(root, bands=['B02'], dem=False)[0]['img']
    assert np.isnan(raw[1, 3, 2]) and np.isnan(raw[0, 0, PRE])
    assert np.isfinite(raw).sum() == raw.size - 2
    comp = build(root, bands=['B02'], dem=False, dates='composite')[0]['img']
    pre_dates = [t for t in range(PRE + 1) if t != PRE]  # the shadowed date is skipped
    assert comp[0, 0, 0] == np.median([s2_value(0, t, 0, 0) for t in pre_dates])
    normed = build(root, NORM, bands=['B02'], dem=False)[0]['img']
    assert normed[1, 3, 2] == 0.0 and np.isfinite(normed).all()


def test_norm_json_used_verbatim_by_band_name(tmp_path):
    mean = {'VH': 5.0, 'DEM': 100.0, 'VV': -3.0}  # key order differs from the channel order
    std = {'VV': 2.0, 'VH': 4.0, 'DEM': 50.0}
    root = write_root(tmp_path, sensors=('s1asc',), norm={'s1asc': {'mean': mean, 'std': std}})
    out = build(root, NORM, dates='post', sensors='s1asc')[0]
    _, r, c = _grid()
    np.testing.assert_allclose(out['img'][..., 0], (s1_value(0, POST, r[0], c[0]) + 3) / 2,
                               rtol=1e-5)
    np.testing.assert_allclose(out['img'][..., 1], (s1_value(1, POST, r[0], c[0]) - 5) / 4,
                               rtol=1e-5)
    np.testing.assert_allclose(out['img'][..., 2], (100 * r[0] + c[0] - 100) / 50, rtol=1e-5)


def test_splits_json_verbatim_and_aligned_sensors(tmp_path):
    root = write_root(tmp_path, sensors=('s2', 's1asc', 's1dsc'), ids=(5, 9, 3, 7))
    splits = json.loads((root / 'tasks/S12LS-LD/harmonized/splits_aligned.json').read_text())
    ds = build(root, sensors=['s2', 's1asc', 's1dsc'], dates='pre_post',
               bands={'s2': ['B04'], 's1asc': ['VV'], 's1dsc': ['VH']}, stream_by_sensor=True)
    ids = [ds.get_data_info(i)['sample_id'] for i in range(len(ds))]
    assert ids == [e['id'] for e in splits['train']]
    out = ds[0]
    assert out['band_names'] == ['s2.B04@pre', 's1asc.VV@pre', 's1dsc.VH@pre', 's2.B04@post',
                                 's1asc.VV@post', 's1dsc.VH@post', 'DEM']
    assert list(out['stream_layout']) == ['s2_pre', 's1asc_pre', 's1dsc_pre', 's2_post',
                                          's1asc_post', 's1dsc_post', 'dem']
    np.testing.assert_allclose(out['img'][3, 4, 2], s1_value(1, PRE, 3, 4), rtol=1e-6)
    test = build(root, split='test', sensors=['s2', 's1asc', 's1dsc'])
    ids = [test.get_data_info(i)['sample_id'] for i in range(len(test))]
    assert ids == [e['id'] for e in splits['test']]


def test_raw_sar_converted_to_db_and_clipped(tmp_path):
    root = write_root(tmp_path, sensors=('s1dsc',))
    (tmp_path / 'data' / 'data_harmonized').rename(tmp_path / 'data' / 'data_raw')
    (tmp_path / 'tasks/S12LS-LD/harmonized').rename(tmp_path / 'tasks/S12LS-LD/raw')
    with pytest.raises(ConfigError, match='norm_file'):
        build(root, version='raw', sensors='s1dsc')
    norm = str(tmp_path / 'tasks/S12LS-LD/raw/s1dsc/norm.json')
    out = build(root, version='raw', sensors='s1dsc', norm_file=norm, dates='post')[0]['img']
    # the patch's values are negative: as linear power they are floored to 1e-6 -> -60 dB -> -50
    assert np.all(out[..., :2] == -50.0)
    kept = build(root, version='raw', sensors='s1dsc', sar_db=False, dates='post')[0]['img']
    assert kept[0, 0, 0] == np.float32(s1_value(0, POST, 0, 0))


def test_pre_post_dates_encodings():
    assert parse_pre_post("{'pre': 7, 'post': 8}", 'f') == (7, 8)
    assert parse_pre_post("{'pre': 7, 'post': 8},{'pre': 3, 'post': 4}", 'f') == (3, 8)
    assert parse_pre_post('', 'f') is None
    with pytest.raises(DataError, match='pre_post_dates'):
        parse_pre_post('7,8', 'f')


def test_event_before_the_series_needs_a_post_only_mode(tmp_path):
    root = write_root(tmp_path, pre_post="{'pre': 0, 'post': 0}")
    assert build(root, dates='post')[0]['img'].shape == (S, S, 11)
    with pytest.raises(DataError, match=r'reg_s2_0\.nc.*no date before the event'):
        build(root, dates='pre_post')[0]


@pytest.mark.parametrize('case', ['missing_variable', 'fewer_dates', 'corrupt'])
def test_bad_patch_is_one_error_naming_the_file(tmp_path, case):
    if case == 'missing_variable':
        root = write_root(tmp_path, drop='B8A')
    elif case == 'fewer_dates':
        root = write_root(tmp_path, n_dates=12, pre_post="{'pre': 3, 'post': 4}")
    else:
        root = write_root(tmp_path)
        f = root / 'data/data_harmonized/s2/reg_s2_0.nc'
        f.write_bytes(f.read_bytes()[:2000])
    match = {'missing_variable': r"reg_s2_0\.nc: variable\(s\) \['B8A'\] missing",
             'fewer_dates': r'reg_s2_0\.nc: 12 dates, Sen12Landslides patches have 15',
             'corrupt': r'reg_s2_0\.nc: unreadable netCDF-4'}[case]
    with pytest.raises(DataError, match=match):
        build(root)[0]


def test_listed_file_missing_is_found_at_init(tmp_path):
    root = write_root(tmp_path)
    (root / 'data/data_harmonized/s2/reg_s2_1.nc').unlink()
    with pytest.raises(DataError, match=r'missing, e\.g\. .*reg_s2_1\.nc'):
        build(root)


def test_option_errors(tmp_path):
    root = write_root(tmp_path)
    with pytest.raises(ConfigError, match='dates'):
        build(root, dates='last')
    with pytest.raises(ConfigError, match='bands for s2'):
        build(root, bands=['VV'])
    with pytest.raises(ConfigError, match='sensors'):
        build(root, sensors=['s3'])


def test_synthetic_copy_is_netcdf4_and_learnable_layout(tmp_path):
    from lszoo.datasets.synthetic_sen12 import write_sen12_synthetic
    root = write_sen12_synthetic(tmp_path / 'syn', patches=4, size=16)
    f = root / 'data/data_harmonized/s1asc/synthia_s1asc_0.nc'
    h5netcdf = pytest.importorskip('h5netcdf')
    with h5netcdf.File(f, 'r') as nc:
        assert nc.variables['VV'].dimensions == ('time', 'x', 'y')
        assert nc.variables['VV'].dtype == np.float32 and nc.variables['DEM'].dtype == np.int16
        assert nc.attrs['pre_post_dates'].startswith("{'pre': ")
    ds = build(root, NORM, sensors=['s2', 's1asc', 's1dsc'], dates='composite')
    out = ds[0]
    assert out['img'].shape == (16, 16, 29) and np.isfinite(out['img']).all()
    norm = json.loads((root / 'tasks/S12LS-LD/harmonized/norm_aligned.json').read_text())
    assert sorted(norm) == ['s1asc', 's1dsc', 's2'] and 'DEM' in norm['s2']['mean']
