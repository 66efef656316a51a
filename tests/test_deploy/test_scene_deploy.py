"""Scene outputs for GIS (lszoo.deploy wired into scene inference): Cloud-Optimized GeoTIFFs with
overviews, a STAC Item that validates, a quicklook, TTA, and the ONNX model giving the PyTorch
result within 1e-4 through tools/infer_scene.py --onnx."""
import json
import os
import os.path as osp

import numpy as np
import pytest
import rasterio

from lszoo.apis.scene import map_scene
from lszoo.geo.cog import cog_problems
from lszoo.geo.stac import validate_item

from helpers import REPO, run_tool, save_checkpoint, tiny_scene_config, write_scene


@pytest.fixture(scope='module')
def scene(tmp_path_factory):
    d = tmp_path_factory.mktemp('deploy')
    cfg = tiny_scene_config(bands=('R', 'G', 'B'),
                      pipeline=[dict(type='NormalizeBands', mode='scale', scale=2.0),
                                dict(type='PackSegInputs')])
    ckpt = save_checkpoint(cfg, d / 'tiny.pth')
    path, data = write_scene(d / 'scene.tif', 600, 700, bands=3)
    with rasterio.open(path, 'r+') as ds:
        ds.update_tags(TIFFTAG_DATETIME='2024:07:01 10:20:30')
    cfg_path = str(d / 'tiny_cfg.py')
    from mmengine.config import Config
    Config(cfg).dump(cfg_path)
    return dict(dir=d, cfg=cfg, cfg_path=cfg_path, ckpt=ckpt, scene=path)


def test_scene_outputs_are_cogs_with_a_valid_stac_item(scene):
    d = scene['dir']
    mask, prob, poly, ql = (str(d / 'm.tif'), str(d / 'p.tif'), str(d / 'inv.gpkg'),
                            str(d / 'm_quicklook.png'))
    res = map_scene(scene['cfg'], scene['scene'], mask, scene['ckpt'], prob=prob,
                    polygons=poly, quicklook=ql, tile=128, overlap=32, window=256,
                    progress=False)
    assert res.n_tiles > 1
    for path, resampling in ((mask, 'MODE'), (prob, 'AVERAGE')):
        assert cog_problems(path) == [], path
        with rasterio.open(path) as ds, rasterio.open(scene['scene']) as src:
            assert ds.tags(ns='IMAGE_STRUCTURE')['LAYOUT'] == 'COG'
            assert ds.overviews(1) == [2]  # 700 px: one overview level fits in a 512 tile
            assert ds.crs == src.crs and ds.transform == src.transform
            assert ds.block_shapes[0] == (512, 512)
            full = ds.read(1)
            ovr = ds.read(1, out_shape=(300, 350))  # served from the overview
        if resampling == 'MODE':
            assert set(np.unique(ovr)) <= {0, 1}  # a mask overview holds classes only
            assert 0 < full.mean() < 1
        else:  # an average: between the neighbours' extremes
            blocks = full[:600, :700].reshape(300, 2, 350, 2)
            assert (ovr >= blocks.min((1, 3)) - 1e-6).all()
            assert (ovr <= blocks.max((1, 3)) + 1e-6).all()
    # the STAC Item beside the mask
    item_path = str(d / 'm.stac.json')
    assert validate_item(item_path)
    with open(item_path) as f:
        item = json.load(f)
    assert item['properties']['datetime'] == '2024-07-01T10:20:30Z'
    assert item['properties']['lszoo:datetime_source'] == 'TIFFTAG_DATETIME'
    assert item['properties']['lszoo:threshold'] == 0.5
    assert len(item['properties']['lszoo:checkpoint_sha256']) == 64
    assert len(item['properties']['lszoo:config_sha256']) == 64
    assert set(item['assets']) == {'mask', 'probabilities', 'polygons', 'quicklook'}
    for name, asset in item['assets'].items():
        assert osp.isfile(d / asset['href']), name  # relative hrefs that resolve
        assert asset['roles'] and asset['type']
    assert 'cloud-optimized' in item['assets']['mask']['type']
    lon, lat = np.array(item['geometry']['coordinates'][0]).T
    # UTM 33N, easting 500000-507000, northing 4194000-4200000: about 15 E, 37.9 N
    assert abs(lon.mean() - 15.04) < 0.05 and abs(lat.mean() - 37.92) < 0.05
    assert item['bbox'][0] <= lon.min() and item['bbox'][3] >= lat.max()
    with rasterio.open(ql) as q:  # the quicklook: RGB, downsampled to at most 1024 px
        assert q.count == 3 and max(q.width, q.height) <= 1024


def test_plain_geotiff_when_cog_is_off(scene, tmp_path):
    out = str(tmp_path / 'm.tif')
    map_scene(scene['cfg'], scene['scene'], out, scene['ckpt'], tile=128, overlap=32,
              window=256, progress=False, cog=False, stac=False)
    assert cog_problems(out) and not osp.exists(tmp_path / 'm.stac.json')


def test_tta_scene_is_invariant_to_flipping_the_input(scene, tmp_path):
    """With --tta flip, mapping the mirrored scene gives the mirrored probabilities."""
    src_path = scene['scene']
    with rasterio.open(src_path) as src:
        data, profile = src.read(), src.profile
    flipped = str(tmp_path / 'flipped.tif')
    # square tiles on a grid symmetric under the flip: 640 = 5 x 128, no overlap
    kw = dict(tile=128, overlap=0, window=256, progress=False, stac=False)
    crop = str(tmp_path / 'crop.tif')
    profile.update(width=640)
    with rasterio.open(crop, 'w', **profile) as dst:
        dst.write(data[:, :, :640])
    with rasterio.open(flipped, 'w', **profile) as dst:
        dst.write(data[:, :, :640][:, :, ::-1])
    probs = {}
    for name, path in (('plain', crop), ('flipped', flipped)):
        for tta in ('none', 'flip'):
            p = str(tmp_path / f'{name}_{tta}_p.tif')
            map_scene(scene['cfg'], path, str(tmp_path / f'{name}_{tta}.tif'), scene['ckpt'],
                      prob=p, tta=tta, **kw)
            with rasterio.open(p) as ds:
                probs[name, tta] = ds.read(1)
    gap_tta = np.abs(probs['flipped', 'flip'][:, ::-1] - probs['plain', 'flip']).max()
    gap_plain = np.abs(probs['flipped', 'none'][:, ::-1] - probs['plain', 'none']).max()
    assert gap_tta < 1e-4 < gap_plain


def test_infer_scene_onnx_equals_pytorch(scene, tmp_path):
    """tools/export_onnx.py then tools/infer_scene.py --onnx: probabilities within 1e-4."""
    onnx_path = tmp_path / 'tiny.onnx'
    r = run_tool('export_onnx.py', scene['cfg_path'], scene['ckpt'], onnx_path, '--tile', 128,
                 '--overlap', 32)
    assert r.returncode == 0, r.stderr
    common = [scene['scene'], '--tile', 128, '--overlap', 32, '--window', 256, '--no-progress']
    r1 = run_tool('infer_scene.py', scene['cfg_path'], scene['ckpt'], common[0],
                  tmp_path / 'pt.tif', '--prob', tmp_path / 'pt_p.tif', *common[1:])
    r2 = run_tool('infer_scene.py', scene['cfg_path'], onnx_path, common[0],
                  tmp_path / 'ox.tif', '--prob', tmp_path / 'ox_p.tif', '--onnx', *common[1:])
    assert r1.returncode == 0 and r2.returncode == 0, r1.stderr + r2.stderr
    with rasterio.open(tmp_path / 'pt_p.tif') as a, rasterio.open(tmp_path / 'ox_p.tif') as b:
        diff = np.abs(a.read(1) - b.read(1)).max()
    print(f'infer_scene --onnx vs PyTorch: max abs probability difference {diff:.2e}')
    assert diff <= 1e-4
    with rasterio.open(tmp_path / 'pt.tif') as a, rasterio.open(tmp_path / 'ox.tif') as b:
        ma, mb = a.read(1), b.read(1)
    assert (ma != mb).mean() < 1e-3  # only pixels within 1e-4 of the threshold may differ
    # a fixed-size graph refuses another tile size with one clear line
    bad = run_tool('infer_scene.py', scene['cfg_path'], onnx_path, common[0],
                   tmp_path / 'bad.tif', '--onnx', '--tile', 256, '--overlap', 32,
                   '--no-progress')
    assert bad.returncode == 2 and '128x128' in bad.stderr
    assert not (tmp_path / 'bad.tif').exists()


def test_mapping_without_a_stac_validator_exits_0_with_every_output(scene, tmp_path):
    """jsonschema unavailable (a shadow package that fails to import): the Item is still written,
    one warning line says it was not validated, the exit code is 0 and every output is there."""
    shadow = tmp_path / 'shadow' / 'jsonschema'
    shadow.mkdir(parents=True)
    (shadow / '__init__.py').write_text("raise ImportError('jsonschema hidden by the test')\n")
    out = tmp_path / 'm.tif'
    r = run_tool('infer_scene.py', scene['cfg_path'], scene['ckpt'], scene['scene'], out,
                 '--prob', tmp_path / 'p.tif', '--polygons', tmp_path / 'inv.gpkg',
                 '--quicklook', '--tile', 128, '--overlap', 32, '--window', 256,
                 '--no-progress',
                 env={'PYTHONPATH': os.pathsep.join([str(shadow.parent), REPO])})
    assert r.returncode == 0, r.stderr
    warnings = [line for line in r.stderr.splitlines()
                if line.startswith('lszoo: warning:') and 'STAC' in line]
    assert len(warnings) == 1 and 'not validated' in warnings[0], r.stderr
    assert 'Traceback' not in r.stderr
    for name in ('m.tif', 'p.tif', 'inv.gpkg', 'm_quicklook.png', 'm.stac.json'):
        assert (tmp_path / name).is_file(), name
    assert cog_problems(str(out)) == []
    with open(tmp_path / 'm.stac.json') as f:
        assert set(json.load(f)['assets']) == {'mask', 'probabilities', 'polygons', 'quicklook'}


def test_a_failing_extra_is_one_warning_and_the_mask_stays(scene, tmp_path, monkeypatch,
                                                           capsys):
    """A quicklook that cannot be written: the mapping succeeds, the Item lists no quicklook."""
    import lszoo.geo.quicklook as quicklook

    def broken(*args, **kwargs):
        raise OSError('disk full')
    monkeypatch.setattr(quicklook, 'write_quicklook', broken)
    out, ql = str(tmp_path / 'm.tif'), str(tmp_path / 'q.png')
    map_scene(scene['cfg'], scene['scene'], out, scene['ckpt'], quicklook=ql, tile=128,
              overlap=32, window=256, progress=False)
    err = capsys.readouterr().err
    assert f'lszoo: warning: quicklook {ql} not written: OSError: disk full' in err
    assert osp.isfile(out) and not osp.exists(ql)
    with open(tmp_path / 'm.stac.json') as f:
        assert 'quicklook' not in json.load(f)['assets']
