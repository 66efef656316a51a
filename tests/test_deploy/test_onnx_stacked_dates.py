"""ONNX export of a change model: one input stacking both dates, pre-event bands first
(what Deepness reads from a VRT of the two images), and scene mapping with it and --pre."""
import json

import numpy as np
import pytest
import rasterio

pytest.importorskip('onnx')
pytest.importorskip('onnxruntime')

from helpers import (CHANGE_CONFIG, load_script, read, save_change_checkpoint,  # noqa: E402
                     write_change_pair)
from lszoo.apis import scene as si  # noqa: E402
from lszoo.apis.scene.predictor import predict_tiles  # noqa: E402
from lszoo.deploy.onnx_export import INPUT_NAME, OUTPUT_NAME, onnx_session  # noqa: E402


def test_change_model_exports_with_stacked_dates_and_maps_a_pair(tmp_path, capsys):
    import torch
    pair = write_change_pair(tmp_path)
    ckpt, model = save_change_checkpoint(CHANGE_CONFIG, pair, tmp_path / 'fc_siam.pth')
    onnx_path = str(tmp_path / 'change.onnx')
    code = load_script('tools/export_onnx.py').main(
        [CHANGE_CONFIG, ckpt, onnx_path, '--tile', '128', '--overlap', '32'])
    assert code == 0, capsys.readouterr().err
    sess = onnx_session(onnx_path)
    meta = {k: json.loads(v) for k, v in sess.get_modelmeta().custom_metadata_map.items()}
    assert meta['lszoo_input_channels'] == [3, 4, 5, 0, 1, 2]
    assert meta['lszoo_dates'] == {'pre': [0, 1, 2], 'post': [3, 4, 5]}
    assert meta['lszoo_input_bands'][0] == 'pre-event R'
    assert meta['lszoo_input'].startswith("both dates stacked as channels: the pre-event")
    # ONNX on a stack [pre, post] (raster values) == the PyTorch model on [post, pre] / 255
    with rasterio.open(pair['post']) as a, rasterio.open(pair['aligned']) as b:
        win = ((32, 160), (64, 192))
        post, pre = a.read(window=win), b.read(window=win)
    stack = np.concatenate([pre, post])[None].astype(np.float32)
    onnx_p = sess.run([OUTPUT_NAME], {INPUT_NAME: stack})[0][:, 0]
    torch_p = predict_tiles(model.eval(), torch.from_numpy(
        np.concatenate([post, pre])[None] / 255.0).float()).numpy()
    assert np.abs(onnx_p - torch_p).max() < 1e-4
    assert 0.05 < (torch_p > 0.5).mean() < 0.95
    # the whole scene: ONNX + --pre (pre image in EPSG:4326) vs PyTorch + the same pre image
    out = tmp_path / 'onnx_mask.tif'
    code = load_script('tools/infer_scene.py').main(
        [CHANGE_CONFIG, onnx_path, pair['post'], str(out), '--onnx', '--pre', pair['pre'],
         '--overlap', '32', '--window', '256', '--no-progress'])
    assert code == 0, capsys.readouterr().err
    si.map_scene(CHANGE_CONFIG, pair['post'], str(tmp_path / 'torch.tif'), ckpt,
                 pre=pair['pre'], tile=128, overlap=32, window=256, progress=False)
    got, want = read(out)[0], read(tmp_path / 'torch.tif')[0]
    assert (got == want).mean() >= 0.999, (got != want).sum()
