"""benchmarks.threshold: a trained benchmark run scored with its fixed, train-calibrated and
test-oracle thresholds, on tiny images written in the real sets' layout (image/*.png +
mask/*.png)."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from benchmarks import real, threshold
from lszoo.errors import DataError


def _tiny_set(root, n=6, size=64):
    rng = np.random.default_rng(0)
    (root / 'image').mkdir(parents=True)
    (root / 'mask').mkdir()
    for i in range(n):
        mask = np.zeros((size, size), np.uint8)
        mask[8 + i:30 + i, 10:40] = 255
        img = rng.integers(0, 120, (size, size, 3), dtype=np.uint8)
        img[mask > 0] += 100  # landslides brighter: a ranking a random model can half-find
        Image.fromarray(img).save(root / 'image' / f'{i:05d}.png')
        Image.fromarray(mask).save(root / 'mask' / f'{i:05d}.png')
    return str(root)


def _run_dir(tmp_path, iters=30):
    """A benchmarks.real run dir: its dumped config and checkpoint, trained ``iters`` steps (a
    model that ranks landslides above background, so that a temperature can be fitted)."""
    from lszoo.engine import build_runner

    data = _tiny_set(tmp_path / 'data')
    split_dir = str(tmp_path / 'splits')
    real.write_splits(data, split_dir)
    name, config, overrides = next(m for m in real.LIGHT if m[0] == 'UNet-ResNet-18')
    run = tmp_path / 'run' / name
    cfg = real.benchmark_config(config, overrides, str(run), data, split_dir, iters, 2, 64,
                                'config', seed=3)
    cfg.log_level = 'WARNING'
    run.mkdir(parents=True)
    cfg.dump(str(run / f'{name}.py'))
    torch.manual_seed(0)
    build_runner(cfg).train()
    return run


def test_three_thresholds_of_one_run(tmp_path, capsys):
    run = _run_dir(tmp_path)
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
