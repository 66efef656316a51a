"""Temperature scaling end to end: fitted by the calibration metric, stored beside the checkpoint,
applied (one hook) by tools/test.py, scene mapping and the ONNX export."""
import json

import numpy as np
import pytest
import rasterio
import torch
from helpers import load_script, save_checkpoint, tiny_scene_config, write_scene

from lszoo.errors import ConfigError
from lszoo.evaluation.calibration import calibrated_threshold, save_calibration
from lszoo.evaluation.metrics import ThresholdCalibrationMetric
from lszoo.evaluation.probability_calibration import fit_temperature
from lszoo.evaluation.threshold import resolve_temperature, temperature_message
from lszoo.models.decode_heads.temperature import (get_temperature, set_temperature,
                                                   temperature_scaled)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _logit(p):
    p = np.asarray(p, np.float64)
    return np.log(p) - np.log1p(-p)


def _model(out_channels):
    from lszoo.apis.scene import init_scene_model
    torch.manual_seed(0)
    model, _ = init_scene_model(tiny_scene_config(out_channels=out_channels))
    return model


@pytest.mark.parametrize('channels', [1, 2])
def test_scaled_probabilities_are_sigmoid_of_logit_over_t(channels):
    from lszoo.apis.scene.predictor import predict_tiles
    model = _model(channels)
    x = torch.from_numpy(write_scene(None, 32, 32, bands=4)[1][None])
    raw = model(x, mode='tensor').detach().double()  # the logits, before any temperature
    z = raw[:, 0] if channels == 1 else raw[:, 1] - raw[:, 0]
    with temperature_scaled(model, 2.5):
        assert get_temperature(model) == 2.5
        p = predict_tiles(model, x).double().numpy()
    assert get_temperature(model) is None  # restored
    np.testing.assert_allclose(p, _sigmoid(z.numpy() / 2.5), atol=1e-6)
    set_temperature(model, 2.0)
    set_temperature(model, 4.0)  # replaces, never compounds
    np.testing.assert_allclose(predict_tiles(model, x).double().numpy(),
                               _sigmoid(z.numpy() / 4.0), atol=1e-6)
    with pytest.raises(ConfigError, match='> 0'):
        set_temperature(model, 0.0)


def _simulated(n=20000, true_t=2.0, seed=0):
    """Logits of an over-confident model: labels drawn from sigmoid(z / true_t)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 4, n)
    y = (rng.random(n) < _sigmoid(z / true_t)).astype(np.int64)
    return z, y


def _sample(seg_logits, labels):
    return dict(seg_logits=dict(data=torch.as_tensor(seg_logits, dtype=torch.float32)),
                gt_sem_seg=dict(data=torch.as_tensor(labels).view(1, 1, -1)))


@pytest.mark.parametrize('channels, probe', [(1, 1.0), (1, 8.0), (2, 1.0)])
def test_metric_fits_the_temperature_of_the_pixels(channels, probe):
    z, y = _simulated()
    direct = fit_temperature(z, y)['temperature']
    assert direct == pytest.approx(2.0, rel=0.1)
    zp = torch.tensor(z / probe).view(1, 1, -1)
    logits = zp.sigmoid() if channels == 1 else torch.cat([torch.zeros_like(zp), zp], 0)
    metric = ThresholdCalibrationMetric(temperature=True, probe_temperature=probe)
    half = z.size // 2
    metric.process(None, [_sample(logits[..., :half], y[:half]),
                          _sample(logits[..., half:], y[half:])])
    out = metric.compute_metrics(metric.results)
    # 0.05-wide logit bins: the fit on the histograms is the direct fit up to the binning
    assert out['temperature'] == pytest.approx(direct, rel=2e-3)
    assert out['nll_after'] <= out['nll_before']


def test_calibrated_threshold_keeps_the_pixel_set():
    z = np.linspace(-6, 6, 1001)
    t = 0.3
    tc = calibrated_threshold(t, 1.7)
    np.testing.assert_array_equal(_sigmoid(z) > t, _sigmoid(z / 1.7) > tc)


def test_resolver_precedence(tmp_path):
    cfg = tiny_scene_config()
    ckpt = save_checkpoint(cfg, tmp_path / 'm.pth')
    assert resolve_temperature(None, cfg, ckpt) == (None, 'none calibrated beside the checkpoint')
    save_calibration(ckpt, dict(threshold=0.4, temperature=1.5, nll_before=0.5, nll_after=0.4,
                                split='val'))
    t, source = resolve_temperature(None, cfg, ckpt)
    assert t == 1.5 and source.startswith(ckpt + '.calibration.json')
    assert temperature_message(t, source) == f'lszoo: temperature 1.5 from {source}'
    assert resolve_temperature(None, cfg, ckpt, override=3.0) == (3.0, 'given explicitly')
    assert resolve_temperature(None, dict(cfg, use_calibrated_threshold=False), ckpt)[0] is None


def _map(config, scene, out, ckpt, capsys, backend='auto'):
    from lszoo.apis.scene import map_scene
    res = map_scene(config, scene, str(out), ckpt, prob=str(out) + '.p.tif', tile=64,
                    overlap=16, window=256, progress=False, stac=False, cog=False,
                    backend=backend)
    printed = capsys.readouterr().out
    with rasterio.open(res.prob) as p:
        return res, p.read(1).astype(np.float64), printed


@pytest.mark.parametrize('backend', ['torch', 'onnx'])
def test_map_scene_applies_the_stored_temperature(tmp_path, capsys, backend):
    """Both backends; ONNX: the cached graph of the uncalibrated run is not reused."""
    cfg = tiny_scene_config()
    ckpt = save_checkpoint(cfg, tmp_path / 'm.pth')
    scene, _ = write_scene(tmp_path / 's.tif', 96, 96)
    _, raw, printed = _map(cfg, scene, tmp_path / 'raw.tif', ckpt, capsys, backend)
    assert 'lszoo: temperature: none calibrated beside the checkpoint' in printed
    save_calibration(ckpt, dict(threshold=0.45, temperature=2.0, split='val'))
    res, cal, printed = _map(cfg, scene, tmp_path / 'cal.tif', ckpt, capsys, backend)
    assert res.backend.startswith(f'backend: {backend}')
    assert res.temperature == 2.0
    assert printed.count('lszoo: temperature 2 from ') == 1
    # blended probabilities are quantised at 1/65535: compare where the raw one is not saturated
    ok = (raw > 1e-3) & (raw < 1 - 1e-3)
    assert ok.mean() > 0.5
    np.testing.assert_allclose(cal[ok], _sigmoid(_logit(raw[ok]) / 2.0), atol=3e-4)


def test_test_tool_calibrates_and_applies_the_temperature(tmp_path, capsys):
    from lszoo.evaluation.calibration import load_calibration
    from lszoo.testing import shrink_config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    from helpers import REPO
    import os.path as osp
    cfg = shrink_config(osp.join(REPO, 'configs', 'demo', 'unet_synthetic.py'), tmp_path / 'wd',
                        iters=1, batch_size=2, crop=32)
    cfg.custom_hooks = []
    config = str(tmp_path / 'tiny.py')
    cfg.dump(config)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    ckpt = str(tmp_path / 'iter_1.pth')
    torch.save({'meta': {}, 'state_dict': MODELS.build(cfg.model).state_dict()}, ckpt)
    tool = load_script('tools/test.py')
    assert tool.main([config, ckpt, '--work-dir', str(tmp_path / 't1'), '--calibrate']) == 0
    info = load_calibration(ckpt)
    t = info['temperature']
    assert t > 0 and info['threshold'] == pytest.approx(
        calibrated_threshold(info['threshold_uncalibrated'], t))
    out = capsys.readouterr().out
    assert out.count(f'lszoo: temperature {t:g} from ') == 1
    assert tool.main([config, ckpt, '--work-dir', str(tmp_path / 't2')]) == 0
    assert f'lszoo: temperature {t:g} from {ckpt}.calibration.json' in capsys.readouterr().out


def test_onnx_export_folds_the_temperature(tmp_path):
    pytest.importorskip('onnxruntime')
    from lszoo.deploy.onnx_export import export_onnx
    from lszoo.deploy.onnx_predictor import OnnxTileModel
    cfg = tiny_scene_config()
    ckpt = save_checkpoint(cfg, tmp_path / 'm.pth')
    save_calibration(ckpt, dict(threshold=0.45, temperature=2.0, split='val'))
    from lszoo.apis.scene import init_scene_model
    model, cfg = init_scene_model(cfg, ckpt)
    res = export_onnx(model, cfg, str(tmp_path / 'm.onnx'), tile_size=64, overlap=16,
                      checkpoint=ckpt)
    assert json.loads(res.metadata['lszoo_temperature']) == 2.0
    assert get_temperature(model) is None  # the export leaves the model as it was
    onnx_model = OnnxTileModel(str(tmp_path / 'm.onnx'))
    assert resolve_temperature(onnx_model, cfg, ckpt) == (None, '2 folded into m.onnx')
    x = torch.from_numpy(write_scene(None, 64, 64, bands=4, seed=3)[1][None])
    from lszoo.apis.scene.predictor import predict_tiles
    raw = predict_tiles(model, x).double().numpy()
    with temperature_scaled(model, 2.0):
        torch_cal = predict_tiles(model, x).double().numpy()
    got = onnx_model(x).double().numpy()
    np.testing.assert_allclose(got, torch_cal, atol=1e-4)
    ok = (raw > 1e-4) & (raw < 1 - 1e-4)
    np.testing.assert_allclose(got[ok], _sigmoid(_logit(raw[ok]) / 2.0), atol=1e-4)
