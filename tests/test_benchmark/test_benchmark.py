"""tools/analysis_tools/benchmark.py: parameter and FLOP counts on the config's real channel count
(checked against hand-computed differences), and the JSON it writes."""
import json

import pytest
from helpers import DEMO_CONFIG, load_script

from lszoo.config import load_config


@pytest.fixture(scope='module')
def bench():
    module = load_script('tools/analysis_tools/benchmark.py')
    return module


def _run(bench, channels, base=4, shape=(32, 32), batch=1):
    cfg = load_config(DEMO_CONFIG, {'model.backbone.in_channels': channels,
                                    'model.backbone.base_channels': base,
                                    'model.decode_head.in_channels': base,
                                    'model.decode_head.channels': base})
    return bench.benchmark(cfg, DEMO_CONFIG, shape=shape, batch=batch, warmup=1, runs=2)


def test_counts_follow_the_real_channel_count(bench):
    five, three = _run(bench, 5), _run(bench, 3)
    assert five['input_shape'] == [1, 5, 32, 32] and three['input_shape'] == [1, 3, 32, 32]
    # only the first 3x3 conv (4 filters, no bias: BN follows) sees the input channels
    assert five['params_total'] - three['params_total'] == (5 - 3) * 4 * 3 * 3
    # its multiply-adds at full resolution: 2 FLOPs each
    assert five['flops'] - three['flops'] == 2 * (5 - 3) * 4 * 3 * 3 * 32 * 32
    assert five['params_trainable'] == five['params_total']  # nothing frozen in a UNet


def test_flops_scale_with_batch_and_area(bench):
    one = _run(bench, 5, shape=(32, 32))
    assert _run(bench, 5, shape=(32, 32), batch=2)['flops'] == 2 * one['flops']
    assert _run(bench, 5, shape=(64, 64))['flops'] == 4 * one['flops']


def test_cli_writes_json_and_table(bench, tmp_path, capsys):
    out = tmp_path / 'bench.json'
    code = bench.main([DEMO_CONFIG, '--shape', '32', '48', '--batch', '2', '--warmup', '1',
                       '--runs', '3', '--json', str(out), '--cfg-options',
                       'model.backbone.base_channels=4', 'model.decode_head.in_channels=4',
                       'model.decode_head.channels=4'])
    assert code == 0
    result = json.loads(out.read_text())
    assert result['input_shape'] == [2, 5, 32, 48] and result['runs'] == 3
    assert result['latency_ms_min'] <= result['latency_ms_median']
    assert result['throughput_img_s'] == pytest.approx(2e3 / result['latency_ms_median'])
    assert result['gmacs'] == pytest.approx(result['flops'] / 2e9)
    assert result['peak_memory_kind'] == 'cpu_peak_rss_increase'
    table = capsys.readouterr().out
    assert '2 x 5 x 32 x 48' in table and 'params total' in table


def test_cuda_request_without_cuda_is_a_clear_error(bench, capsys):
    import torch
    if torch.cuda.is_available():
        pytest.skip('CUDA is available here')
    assert bench.main([DEMO_CONFIG, '--device', 'cuda']) == 2
    assert 'CUDA is not available' in capsys.readouterr().err


# --- side by side ------------------------------------------------------------------------------

class _Fake:
    """A contender with fixed times that records when it runs."""

    def __init__(self, name, eval_s, train_s, log):
        self.name, self.eval_s, self.train_s, self.log = name, eval_s, train_s, log
        self.device = 'cpu'
        self.settings = dict(config=name, input=[1, 5, 8, 8], train_batch=1, amp=False,
                             channels_last=False, compile=False)

    def time_eval(self):
        self.log.append((self.name, 'eval'))
        return self.eval_s

    def time_train(self):
        self.log.append((self.name, 'train'))
        return self.train_s


def test_side_by_side_alternates_and_takes_ratios_per_repetition(bench):
    log = []
    a, b = _Fake('a', 0.010, 0.100, log), _Fake('b', 0.005, 0.150, log)
    r = bench.side_by_side(a, b, reps=4, warmup=1)
    timed = log[4:]  # warm-up: a eval, a train, b eval, b train
    assert [n for n, m in timed if m == 'eval'] == ['a', 'b', 'b', 'a', 'a', 'b', 'b', 'a']
    assert [n for n, m in timed if m == 'train'] == ['a', 'b', 'b', 'a', 'a', 'b', 'b', 'a']
    assert r['eval']['ratio_median'] == pytest.approx(0.5)
    assert r['eval']['a_img_s'] == pytest.approx(100.0)
    assert r['train']['b_img_s'] == pytest.approx(1 / 0.15)
    assert r['train']['ratio_median'] == pytest.approx(1.5)
    assert r['train']['a_ms_median'] == pytest.approx(100.0)
    assert len(r['eval']['a_ms']) == 4


def test_side_by_side_cli_runs_two_settings_and_writes_json(bench, tmp_path, capsys):
    out = tmp_path / 'sbs.json'
    code = bench.main([DEMO_CONFIG, '--shape', '32', '32', '--batch', '2', '--reps', '2',
                       '--warmup', '1', '--amp-b', '--json', str(out), '--cfg-options',
                       'model.backbone.base_channels=4', 'model.decode_head.in_channels=4',
                       'model.decode_head.channels=4', '--cfg-options-b',
                       'optim_wrapper.optimizer.lr=0.01'])
    assert code == 0
    r = json.loads(out.read_text())
    assert r['a']['amp'] is False and r['b']['amp'] is True and r['reps'] == 2
    for m in ('eval', 'train'):
        ratios = sorted(b / a for a, b in zip(r[m]['a_ms'], r[m]['b_ms']))
        assert r[m]['ratio_min'] == pytest.approx(ratios[0])
        assert r[m]['ratio_median'] == pytest.approx(sum(ratios) / 2)
    assert r['b']['overrides'] == {'optim_wrapper.optimizer.lr': '0.01'}
    assert 'overrides' not in r['a']
    table = capsys.readouterr().out
    assert 'train step' in table and 'B/A median' in table and 'amp' in table
    assert 'optim_wrapper.optimizer.lr=0.01' in table.splitlines()[1]  # B's line says what differs
