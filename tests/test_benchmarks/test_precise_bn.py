"""benchmarks.precise_bn: a trained benchmark run scored with its own BatchNorm running
statistics and with statistics recomputed over its training pipeline, weights untouched."""
import json

import pytest
import torch
from helpers import trained_benchmark_run

from benchmarks import precise_bn
from lszoo.errors import DataError
from lszoo.utils.checkpoint import load_checkpoint_file


STATS = ('running_mean', 'running_var', 'num_batches_tracked')


def _stats(state):
    return {k: v for k, v in state.items() if k.endswith(STATS)}


def test_only_the_statistics_change_and_the_stored_ones_play_no_part(tmp_path):
    run = trained_benchmark_run(tmp_path, iters=4)
    name, config, ckpt = precise_bn.run_files(str(run))
    original = load_checkpoint_file(ckpt)
    # the same checkpoint with absurd running statistics: recomputing must not start from them
    spoiled = dict(original, state_dict={
        k: (torch.full_like(v, 1e3) if k in _stats(original['state_dict']) else v)
        for k, v in original['state_dict'].items()})
    torch.save(spoiled, tmp_path / 'spoiled.pth')
    layers = precise_bn.recompute_bn(config, ckpt, str(tmp_path / 'a' / 'p.pth'), batches=3)
    precise_bn.recompute_bn(config, str(tmp_path / 'spoiled.pth'), str(tmp_path / 'b' / 'p.pth'),
                            batches=3)
    a = load_checkpoint_file(tmp_path / 'a' / 'p.pth')['state_dict']
    b = load_checkpoint_file(tmp_path / 'b' / 'p.pth')['state_dict']
    assert layers == len(_stats(a)) // 3 > 0
    moved = 0
    for key, value in original['state_dict'].items():
        if key in _stats(a):
            # same batches (the loader is seeded), same result whatever was stored before
            assert torch.allclose(a[key].float(), b[key].float(), rtol=1e-4, atol=1e-5), key
            moved += not torch.allclose(a[key].float(), value.float())
        else:
            assert torch.equal(a[key], value), f'{key} is not a statistic but changed'
    assert moved > 0


def test_one_run_scored_both_ways_then_tabulated(tmp_path, capsys):
    run = trained_benchmark_run(tmp_path)  # ranks landslides first
    out = tmp_path / 'rows.json'
    assert precise_bn.main([str(run), '--out', str(out), '--batches', '2']) == 0
    (row, ) = json.loads(out.read_text())
    assert row['name'] == 'UNet-ResNet-18' and row['seed'] == 3 and row['batches'] == 2
    assert row['threshold'] == 0.5 and row['batch_size'] == 2 and row['bn_layers'] > 0
    for column in ('running', 'precise'):
        r = row[column]
        assert 0 <= r['IoU'] <= 100 and 0 <= r['oracle_IoU'] <= 100
        # IoU and F1 of one confusion matrix: F1 = 2 IoU / (1 + IoU)
        assert r['F1'] == pytest.approx(200 * r['IoU'] / (100 + r['IoU']), abs=0.05)
    assert (run / 'precise_bn' / 'iter_30.pth').is_file()
    assert precise_bn.main(['--results', str(out)]) == 0
    printed = capsys.readouterr().out
    assert '| data | UNet-ResNet-18 | 1 |' in printed and 'oracle IoU precise' in printed


def test_bad_arguments_stop_before_any_pass(tmp_path, capsys):
    (tmp_path / 'empty').mkdir()
    assert precise_bn.main([str(tmp_path / 'empty'), '--out', str(tmp_path / 'r.json')]) != 0
    assert 'not a benchmark run dir' in capsys.readouterr().err
    assert precise_bn.main([str(tmp_path / 'empty'), '--out', str(tmp_path / 'r.json'),
                            '--batches', '0']) != 0
    assert '--batches must be >= 1' in capsys.readouterr().err
    assert not (tmp_path / 'r.json').exists()
    with pytest.raises(DataError, match='matched nothing'):
        precise_bn.run(precise_bn.parse_args([str(tmp_path / 'nothing*'), '--out', 'r.json']))
