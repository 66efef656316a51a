"""ONNX export (lszoo.deploy.onnx_export): every model family, onnxruntime vs PyTorch, Deepness
metadata, the normalisation inside the graph, and tools/export_onnx.py end to end."""
import json
import os.path as osp
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch

pytest.importorskip('onnx')
pytest.importorskip('onnxruntime')

from lszoo.apis.scene import init_scene_model  # noqa: E402
from lszoo.deploy.normalization import build_input_normalization  # noqa: E402
from lszoo.deploy.onnx_export import (TOLERANCE, ProbabilityModel, export_onnx,  # noqa: E402
                                      max_prob_difference, onnx_session, read_metadata)

from lszoo.utils.output_lock import lock_path  # noqa: E402

from helpers import REPO, run_tool

# one config per family (the smallest of each); a family whose graph keeps free height/width
# is checked at a second size as well
FAMILIES = {
    'unet': 'configs/demo/unet_synthetic.py',
    'deeplabv3plus': 'configs/deeplabv3plus/deeplabv3plus_mobilenetv2_synthetic.py',
    'segformer': 'configs/segformer/segformer_synthetic.py',
    'timm_unet': 'configs/timm_unet/timm_unet_convnextv2-atto_synthetic.py',
    'digate_unet': 'configs/demo/digate_unet_synthetic.py',
    'geonext': 'configs/demo/geonext_synthetic.py',
}
DEEPNESS_KEYS = {'model_type', 'class_names', 'tile_size', 'tiles_overlap', 'seg_thresh',
                 'standardization_mean', 'standardization_std'}


@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_every_family_exports_and_matches_pytorch(family, tmp_path):
    torch.manual_seed(0)
    model, cfg = init_scene_model(osp.join(REPO, FAMILIES[family]))
    out = str(tmp_path / f'{family}.onnx')
    res = export_onnx(model, cfg, out, tile_size=64, overlap=16, dynamic_hw=True,
                      resolution_cm=250.0)
    print(f'{family}: max abs probability difference {res.max_abs_diff:.2e}, '
          f'dynamic height/width {res.dynamic_hw}, shapes {res.checked_shapes}')
    assert res.max_abs_diff <= TOLERANCE
    # independent check on fresh data, other batch size; single probability output in [0, 1]
    sess = onnx_session(out)
    (inp, ), (outp, ) = sess.get_inputs(), sess.get_outputs()
    assert inp.shape[0] == 'batch' and inp.shape[1] == cfg.in_channels
    assert len(sess.get_outputs()) == 1 and outp.shape[1] == 1
    wrapper = ProbabilityModel(model, build_input_normalization(cfg)).eval()
    x = torch.rand(3, cfg.in_channels, 64, 64, generator=torch.Generator().manual_seed(5))
    diff = max_prob_difference(sess, wrapper, x)
    prob = sess.run(None, {inp.name: x.numpy()})[0]
    assert diff <= TOLERANCE and prob.shape == (3, 1, 64, 64)
    assert 0 <= prob.min() and prob.max() <= 1
    if res.dynamic_hw:
        assert inp.shape[2:] == ['height', 'width']
        x2 = torch.rand(1, cfg.in_channels, 32, 96)
        assert sess.run(None, {inp.name: x2.numpy()})[0].shape == (1, 1, 32, 96)
        assert max_prob_difference(sess, wrapper, x2) <= TOLERANCE
    else:
        assert inp.shape[2:] == [64, 64]
    # Deepness's keys, JSON values as Deepness parses them
    meta = read_metadata(out)
    assert DEEPNESS_KEYS <= set(meta)
    assert meta['model_type'] == 'Segmentor' and meta['class_names'] == {'0': 'landslide'}
    assert meta['tile_size'] == 64 and meta['tiles_overlap'] == 25
    assert meta['resolution'] == 250.0
    assert meta['seg_thresh'] == pytest.approx(model.decode_head.threshold)
    assert meta['standardization_mean'] == [0.0] * cfg.in_channels
    # synthetic configs take 0..1 values: Deepness's uint8 / 255 is handed over as it is
    assert meta['standardization_std'] == pytest.approx([1.0] * cfg.in_channels)


@pytest.mark.parametrize('config', ['configs/unet/unet_l4s.py', 'configs/unet/unet_bijie.py',
                                    'configs/unet/unet_cas.py'])
def test_graph_normalisation_equals_the_test_pipeline(config):
    """The graph's normalisation gives what the config's NormalizeBands gives in numpy."""
    from mmengine.config import Config
    from mmseg.registry import TRANSFORMS

    import lszoo  # noqa: F401

    cfg = Config.fromfile(osp.join(REPO, config))
    norm = build_input_normalization(cfg)
    (step, ) = [t for t in cfg.test_pipeline if t['type'] == 'NormalizeBands']
    rng = np.random.default_rng(0)
    img = (rng.random((16, 24, cfg.in_channels)) * 200).astype(np.float32)
    img[..., 0] = 7.0  # a constant band (minmax: becomes 0)
    ref = TRANSFORMS.build(step)(dict(img=img.copy(), band_names=cfg.bands))['img']
    got = norm(torch.from_numpy(img.transpose(2, 0, 1)[None].copy()))[0].numpy()
    np.testing.assert_allclose(got.transpose(1, 2, 0), ref, rtol=1e-5, atol=1e-5)
    assert norm.modes  # a step was translated (a silent identity would also match nothing)
    # Deepness hands 8-bit configs the uint8 values (std 1/255), L4S's floats 0..1 (std 1)
    from lszoo.deploy.onnx_export import default_input_scale
    assert default_input_scale(cfg) == (1.0 if 'l4s' in config else 255.0)


def test_every_config_normalisation_goes_into_the_graph():
    """Each model config's test pipeline translates (nothing refused, nothing left out), except
    the Sen12Landslides time-series configs, which read NetCDF series, not one raster: those are
    refused with one error naming their loader."""
    import glob

    from mmengine.config import Config

    import lszoo  # noqa: F401
    from lszoo.errors import ConfigError
    n = 0
    for path in sorted(glob.glob(osp.join(REPO, 'configs', '*', '*.py'))):
        cfg = Config.fromfile(path)
        if cfg.get('test_dataloader', {}).get('dataset', {}).get('type') == \
                'Sen12LandslidesDataset':
            with pytest.raises(ConfigError, match='LoadSen12Sample'):
                build_input_normalization(cfg)
            continue
        if 'model' in cfg:
            norm = build_input_normalization(cfg)  # raises ConfigError on an unknown step
            has_nb = any(t.get('type') == 'NormalizeBands'
                         for t in (cfg.get('test_pipeline') or []))
            assert bool(norm.modes) == has_nb, path
            n += 1
    assert n > 40


def test_unsupported_pipeline_step_is_refused():
    from mmengine.config import Config

    from lszoo.errors import ConfigError
    cfg = Config(dict(bands=['R'], test_pipeline=[dict(type='BandCLAHE', streams=['optical'])]))
    with pytest.raises(ConfigError, match='BandCLAHE'):
        build_input_normalization(cfg)


def test_export_tool_end_to_end(tmp_path):
    torch.manual_seed(1)
    cfg_path = osp.join(REPO, FAMILIES['geonext'])
    model, _ = init_scene_model(cfg_path)
    ckpt = tmp_path / 'm.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    out = tmp_path / 'm.onnx'
    r = run_tool('export_onnx.py', cfg_path, ckpt, out, '--tile', 64, '--overlap', 8)
    assert r.returncode == 0, r.stderr
    assert 'max abs probability difference' in r.stdout
    meta = read_metadata(str(out))
    assert meta['tile_size'] == 64 and meta['tiles_overlap'] == 12
    assert len(meta['lszoo_checkpoint_sha256']) == 64
    # bad input: one line naming the problem, exit 2, nothing written
    bad = run_tool('export_onnx.py', cfg_path, tmp_path / 'missing.pth', tmp_path / 'x.onnx')
    assert bad.returncode == 2 and 'missing.pth' in bad.stderr
    assert not (tmp_path / 'x.onnx').exists()
    assert json.loads(json.dumps(meta))  # plain JSON values throughout
    # a second export to a file another live process is writing stops at once, file untouched
    other = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])
    try:
        with open(lock_path(str(out)), 'w') as f:
            f.write(f'{other.pid} {socket.gethostname()}\n')
        before = out.read_bytes()
        busy = run_tool('export_onnx.py', cfg_path, ckpt, out, '--tile', 64)
    finally:
        other.kill()
        other.wait()
    assert busy.returncode == 2 and 'Traceback' not in busy.stderr
    assert f'OUT {out} is being written by process {other.pid}' in busy.stderr
    assert out.read_bytes() == before
