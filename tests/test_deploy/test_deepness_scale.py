"""An export for Deepness whose model expects raw values far above the 0..1 Deepness feeds
says so in one line and in the metadata (issue 24, silently wrong #6)."""
import pytest
from helpers import run_tool, save_checkpoint, tiny_scene_config
from mmengine.config import Config

from lszoo.deploy.normalization import build_input_normalization
from lszoo.deploy.onnx_export import deepness_scale_note

BANDS = ('B2', 'B3', 'B4', 'DEM')


def _cfg(step):
    return tiny_scene_config(bands=BANDS, pipeline=[step, dict(type='PackSegInputs')])


def _note(step, scale=1.0):
    return deepness_scale_note(build_input_normalization(Config(_cfg(step))), scale)


MEANSTD_RAW = dict(type='NormalizeBands', mode='meanstd',
                   mean=dict(B2=1000, B3=1100, B4=1200, DEM=800),
                   std=dict(B2=400, B3=400, B4=400, DEM=300))
SCALE_10K = dict(type='NormalizeBands', mode='scale', scale=10000.0)


def test_raw_scales_are_noted_and_unit_scales_are_not():
    note = _note(MEANSTD_RAW)
    assert note.startswith('the model normalises raw values as (x - [1000, 1100, 1200, 800]) / '
                           '[400, 400, 400, 300] (typical value 1600)')
    assert 'about 1600x smaller' in note and 'np.' not in note
    assert 'about 10000x smaller' in _note(SCALE_10K)
    assert _note(SCALE_10K, scale=10000.0) is None  # --input-scale 10000
    assert _note(dict(type='NormalizeBands', mode='meanstd', mean=[0.4] * 4,
                      std=[0.2] * 4)) is None
    assert _note(dict(type='NormalizeBands', mode='minmax')) is None
    assert _note(dict(type='NormalizeBands', mode='scale', scale=255.0), 255.0) is None


def test_export_tool_warns_in_one_line_and_records_it(tmp_path):
    pytest.importorskip('onnxruntime')
    cfg = tmp_path / 'cfg.py'
    Config(_cfg(SCALE_10K)).dump(str(cfg))
    ckpt = save_checkpoint(_cfg(SCALE_10K), tmp_path / 'm.pth')
    res = run_tool('export_onnx.py', cfg, ckpt, tmp_path / 'm.onnx', '--tile', '64',
                   '--overlap', '16')
    assert res.returncode == 0, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if 'Deepness' in ln]
    assert len(lines) == 1 and lines[0].startswith('lszoo: warning: ')
    assert '10000x smaller' in lines[0]
    from lszoo.deploy.onnx_export import read_metadata
    meta = read_metadata(str(tmp_path / 'm.onnx'))
    assert 'Deepness' in meta['lszoo_deepness_warning']
    assert meta['standardization_std'] == [1.0] * 4  # the standardisation is unchanged
