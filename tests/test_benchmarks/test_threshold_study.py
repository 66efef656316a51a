"""benchmarks.threshold: a trained benchmark run scored with its fixed, train-calibrated and
test-oracle thresholds, on tiny images written in the real sets' layout (image/*.png +
mask/*.png)."""
import json

import pytest
from helpers import trained_benchmark_run

from benchmarks import threshold
from lszoo.errors import DataError


def test_three_thresholds_of_one_run(tmp_path, capsys):
    run = trained_benchmark_run(tmp_path)
    out = tmp_path / 'rows.json'
    assert threshold.main([str(run), '--out', str(out)]) == 0
    (row, ) = json.loads(out.read_text())
    assert row['name'] == 'UNet-ResNet-18' and row['seed'] == 3
    assert row['fixed']['threshold'] == 0.5
    for column in threshold.COLUMNS:
        assert 0 < row[column]['threshold'] < 1 and 0 <= row[column]['IoU'] <= 100
    # the oracle is the best threshold on the test images: no other scores higher there
    # (its IoU comes from a 1000-bin histogram, the others from exact counts)
    assert row['oracle']['F1'] >= max(row['fixed']['F1'], row['train']['F1']) - 0.1
    printed = capsys.readouterr().out
    assert '| data | model | seed |' in printed and '| UNet-ResNet-18 | 3 | 0.5 |' in printed
    assert threshold.main(['--results', str(out)]) == 0
    assert '| data | UNet-ResNet-18 | 1 |' in capsys.readouterr().out


def test_split_cfg_validates_on_the_asked_split(tmp_path):
    from mmengine.config import Config
    cfg = Config(dict(test_dataloader=dict(dataset=dict(split='test', data_root='d'))))
    val = threshold.split_cfg(cfg, 'train')
    assert val.val_dataloader.dataset.split == 'train' and val.val_cfg['type'] == 'ValLoop'
    assert cfg.test_dataloader.dataset.split == 'test'  # the config itself is not touched


def test_a_folder_that_is_no_run_stops_before_any_pass(tmp_path, capsys):
    (tmp_path / 'empty').mkdir()
    assert threshold.main([str(tmp_path / 'empty'), '--out', str(tmp_path / 'r.json')]) != 0
    assert 'not a benchmark run dir' in capsys.readouterr().err
    assert not (tmp_path / 'r.json').exists()
    with pytest.raises(DataError, match='not a benchmark run dir'):
        threshold.run_files(str(tmp_path / 'empty'))
