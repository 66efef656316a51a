"""benchmarks.digate_reference: the side-by-side run against the authors' DiGATe-UNet.

The reference code is not part of lszoo (nor of its tests); what is tested here is the tool's
own logic: a missing clone is one clear error, and the interleaved comparison takes its ratios
against the reference and against lszoo eager from the same repetitions.
"""
import pytest
from helpers import run_study

from benchmarks import digate_reference as dr
from lszoo.errors import ConfigError


def test_missing_reference_clone_is_one_clear_error(tmp_path):
    with pytest.raises(ConfigError, match='no models/DiGATe_Unet.py there; clone '
                       'github.com/mishaown/DiGATe-UNet-LandSlide-Segmentation'):
        dr.import_reference(str(tmp_path))
    out = run_study('digate_reference', '--reference', tmp_path, '--options', 'eager')
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1].startswith('lszoo: error: --reference ')


class _Fake:
    def __init__(self, name, eval_s, train_s=None):
        self.name, self.eval_s = name, eval_s
        if train_s is not None:
            self.time_train = lambda: train_s

    def time_eval(self):
        return self.eval_s


def test_compare_ratios_against_reference_and_eager_skip_eval_only_contenders_in_training():
    cs = [_Fake('reference', 0.4, 2.0), _Fake('lszoo eager', 0.3, 1.0),
          _Fake('lszoo onnxruntime', 0.1)]
    rows = dr.compare(cs, ['time_eval', 'time_train'], reps=3, n_images=dict(
        time_eval=1, time_train=4))
    ev, tr = rows['time_eval'], rows['time_train']
    assert ev['lszoo onnxruntime']['vs_reference']['ratio_median'] == pytest.approx(0.25)
    assert ev['lszoo onnxruntime']['vs_eager']['ratio_median'] == pytest.approx(1 / 3)
    assert ev['reference']['vs_eager']['ratio_median'] == pytest.approx(4 / 3)
    assert set(tr) == {'reference', 'lszoo eager'}
    assert tr['lszoo eager']['vs_reference']['ratio_median'] == pytest.approx(0.5)
    assert tr['lszoo eager']['vs_reference']['b_img_s'] == pytest.approx(4.0)
