"""map_scene(..., uncertainty=...): the TTA spread or the entropy of the probability, as a COG on
the input's grid, equal to a direct NumPy computation; guarded like the other outputs."""
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import rasterio
import torch
from helpers import save_checkpoint, tiny_scene_config, write_scene

from lszoo.apis.scene import map_scene
from lszoo.apis.scene.uncertainty import binary_entropy
from lszoo.errors import ConfigError, DataError
from lszoo.geo.cog import cog_problems
from lszoo.utils.output_lock import lock_path
from lszoo.utils.tta import apply_op, invert_op

OPTS = dict(tile=64, overlap=16, window=256, progress=False, stac=False)


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp('unc')
    cfg = tiny_scene_config()
    return cfg, save_checkpoint(cfg, d / 'm.pth'), d


def _read(path):
    with rasterio.open(path) as ds:
        return ds.read(1), ds.profile, ds.descriptions[0], ds.tags()


def test_tta_spread_equals_numpy_std_over_the_views(setup, tmp_path):
    """One 64 x 64 tile: the layer is the std over the 4 flips of the model's probability."""
    from lszoo.apis.scene import init_scene_model
    from lszoo.apis.scene.predictor import predict_tiles
    cfg, ckpt, _ = setup
    scene, data = write_scene(tmp_path / 's.tif', 64, 64, seed=2)
    res = map_scene(cfg, scene, str(tmp_path / 'm.tif'), ckpt, prob=str(tmp_path / 'p.tif'),
                    uncertainty=str(tmp_path / 'u.tif'), tta='flip', cog=False, **OPTS)
    unc, prof, desc, tags = _read(res.uncertainty)
    prob = _read(res.prob)[0]
    model, _ = init_scene_model(cfg, ckpt)
    x = torch.from_numpy(data[None])
    views = np.stack([invert_op(predict_tiles(model, apply_op(x, op)), op)[0].double().numpy()
                      for op in range(4)])
    np.testing.assert_allclose(unc, views.std(0), atol=2e-5)  # quantised at 1/65535
    np.testing.assert_allclose(prob, views.mean(0), atol=2e-5)
    assert unc.max() > 1e-3  # the random model does depend on the orientation
    assert tags['LSZOO_UNCERTAINTY'] == 'tta_std' and 'standard deviation' in desc
    assert prof['dtype'] == 'float32'


def test_entropy_without_tta_is_a_valid_cog_with_nodata(setup, tmp_path):
    """Several blended tiles, nodata in the input: entropy of the written probability, the
    input's grid, nodata where the mask is nodata, a valid COG."""
    cfg, ckpt, _ = setup
    scene, data = write_scene(tmp_path / 's.tif', 300, 280, seed=4, nodata=-9999.0)
    with rasterio.open(scene, 'r+') as ds:
        block = ds.read()
        block[:, :40, :50] = -9999.0
        ds.write(block)
    res = map_scene(cfg, scene, str(tmp_path / 'm.tif'), ckpt, prob=str(tmp_path / 'p.tif'),
                    uncertainty=str(tmp_path / 'u.tif'), **OPTS)
    unc, prof, desc, tags = _read(res.uncertainty)
    prob, pprof, _, _ = _read(res.prob)
    mask = _read(res.output)[0]
    assert cog_problems(res.uncertainty) == []
    with rasterio.open(scene) as src:
        assert prof['crs'] == src.crs and prof['transform'] == src.transform
        assert (prof['width'], prof['height']) == (src.width, src.height)
    nodata = mask == 255
    assert nodata[:40, :50].all() and not nodata[40:, 50:].any()
    assert prof['nodata'] == pprof['nodata'] and (unc[nodata] == prof['nodata']).all()
    p = prob[~nodata].astype(np.float64)
    direct = -(p * np.log2(p, where=p > 0, out=np.zeros_like(p))
               + (1 - p) * np.log2(1 - p, where=p < 1, out=np.zeros_like(p)))
    np.testing.assert_allclose(unc[~nodata], direct, atol=1e-6)
    assert 0 <= unc[~nodata].min() and unc[~nodata].max() <= 1
    assert tags['LSZOO_UNCERTAINTY'] == 'entropy' and 'entropy' in desc


def test_binary_entropy_values():
    np.testing.assert_allclose(binary_entropy([0.0, 0.5, 1.0, 0.25]),
                               [0.0, 1.0, 0.0, 0.8112781], atol=1e-6)


def test_uncertainty_path_is_checked_like_the_other_outputs(setup, tmp_path):
    cfg, ckpt, _ = setup
    scene, _ = write_scene(tmp_path / 's.tif', 64, 64)
    out = str(tmp_path / 'm.tif')
    with pytest.raises(ConfigError, match='--uncertainty .*u.png'):
        map_scene(cfg, scene, out, ckpt, uncertainty=str(tmp_path / 'u.png'), **OPTS)
    with pytest.raises((ConfigError, DataError), match='--uncertainty'):
        map_scene(cfg, scene, out, ckpt, uncertainty=out, **OPTS)
    with pytest.raises(DataError, match='--uncertainty .* is the INPUT file'):
        map_scene(cfg, scene, out, ckpt, uncertainty=scene, **OPTS)
    unc = tmp_path / 'u.tif'
    other = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    try:
        with open(lock_path(str(unc)), 'w') as f:
            f.write(f'{other.pid} {socket.gethostname()}\n')
        with pytest.raises(DataError, match=f'--uncertainty .*is being written by process '
                           f'{other.pid}'):
            map_scene(cfg, scene, out, ckpt, uncertainty=str(unc), **OPTS)
    finally:
        other.kill()
        other.wait()
        os.remove(lock_path(str(unc)))
    assert not unc.exists() and not os.path.exists(out)


def test_infer_scene_writes_the_uncertainty_cog(setup, tmp_path):
    from helpers import run_infer_scene
    from mmengine.config import Config
    cfg, ckpt, _ = setup
    config = str(tmp_path / 'tiny.py')
    Config(cfg).dump(config)
    scene, _ = write_scene(tmp_path / 's.tif', 96, 96)
    unc = tmp_path / 'u.tif'
    res = run_infer_scene([config, ckpt, scene, str(tmp_path / 'm.tif'), '--tile', '64',
                           '--overlap', '16', '--no-progress', '--tta', 'flip',
                           '--uncertainty', str(unc)])
    assert res.returncode == 0, res.stderr
    assert cog_problems(str(unc)) == [] and _read(str(unc))[3]['LSZOO_UNCERTAINTY'] == 'tta_std'
    assert 'lszoo: temperature: none calibrated beside the checkpoint' in res.stdout
    import json
    with open(tmp_path / 'm.stac.json') as f:  # the STAC Item lists the layer
        item = json.load(f)
    assert item['assets']['uncertainty']['href'] == 'u.tif'
    assert item['properties']['lszoo:temperature'] is None
    assert 'not written' not in res.stderr and 'not validated' not in res.stderr
