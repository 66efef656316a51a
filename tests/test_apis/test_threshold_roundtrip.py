"""One threshold for test, scene mapping and ONNX export: calibrate once, beside the checkpoint;
export and map with the .pth and with the .onnx give the same threshold and the same mask."""
import json
import os.path as osp

import numpy as np
import pytest
import rasterio
import torch
from rasterio.transform import from_origin
from helpers import REPO



def _scene(path, bands=5, size=96):
    rng = np.random.default_rng(5)
    data = rng.random((bands, size, size), dtype=np.float32)
    with rasterio.open(path, 'w', driver='GTiff', width=size, height=size, count=bands,
                       dtype='float32', crs='EPSG:32633',
                       transform=from_origin(500000.0, 4200000.0, 10.0, 10.0)) as dst:
        dst.write(data)
    return str(path)


def _map(model, scene, out, **kw):
    from lszoo.apis import map_scene
    res = map_scene(model, scene, str(out), prob=str(out) + '.prob.tif', tile=64, overlap=16,
                    window=256, stac=False, cog=False, progress=False, **kw)
    with rasterio.open(res.output) as m, rasterio.open(res.prob) as p:
        return res, m.read(1), p.read(1)


def test_calibrate_export_and_map_agree(tmp_path):
    pytest.importorskip('onnxruntime')
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    from lszoo.apis import init_model
    from lszoo.deploy.onnx_export import export_onnx
    from lszoo.deploy.onnx_predictor import OnnxTileModel
    from lszoo.evaluation import calibrate_threshold, resolve_threshold
    from lszoo.testing import shrink_config

    cfg = shrink_config(osp.join(REPO, 'configs', 'demo', 'unet_synthetic.py'), tmp_path / 'wd',
                        iters=1, batch_size=2, crop=32)
    cfg.custom_hooks = []
    init_default_scope('mmseg')
    torch.manual_seed(0)
    ckpt = str(tmp_path / 'iter_1.pth')
    torch.save({'meta': {}, 'state_dict': MODELS.build(cfg.model).state_dict()}, ckpt)
    before = open(ckpt, 'rb').read()

    info = calibrate_threshold(cfg, ckpt)
    thr = info['threshold']
    assert 0 < thr < 1 and open(ckpt, 'rb').read() == before  # the .pth is untouched
    model = init_model(cfg, ckpt)
    assert resolve_threshold(model, cfg, ckpt)[0] == thr

    onnx_path = str(tmp_path / 'm.onnx')
    res = export_onnx(model, cfg, onnx_path, tile_size=64, overlap=16, checkpoint=ckpt)
    assert json.loads(res.metadata['seg_thresh']) == thr
    assert 'calibrated on val' in json.loads(res.metadata['lszoo_threshold_source'])

    scene = _scene(tmp_path / 'scene.tif')
    r_pth, m_pth, p_pth = _map(cfg, scene, tmp_path / 'pth.tif', checkpoint=ckpt)
    onnx_model = OnnxTileModel(onnx_path)
    r_onnx, m_onnx, p_onnx = _map(onnx_model, scene, tmp_path / 'onnx.tif', cfg=cfg)
    assert r_pth.threshold == r_onnx.threshold == thr
    assert 'calibrated' in r_pth.threshold_source
    # onnxruntime and PyTorch agree to 1e-4 in probability: the masks agree wherever the
    # probability is not within that of the threshold
    assert np.abs(p_pth - p_onnx).max() <= 1e-4
    clear = np.abs(p_pth - thr) > 2e-4
    np.testing.assert_array_equal(m_pth[clear], m_onnx[clear])
    assert (m_pth != m_onnx).mean() < 1e-3
    # the calibrated threshold is not the head's (0.5): that one would give another mask
    assert ((p_pth > 0.5) != (m_pth == 1)).any()
