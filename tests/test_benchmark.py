"""tools/benchmark.py: parameter and FLOP counts on the config's real channel count (checked
against hand-computed differences), and the JSON it writes."""
import importlib.util
import json
import os.path as osp

import pytest
from conftest import DEMO_CONFIG, REPO

from lszoo.cli.tool import load_config


@pytest.fixture(scope='module')
def bench():
    spec = importlib.util.spec_from_file_location('lszoo_tool_benchmark',
                                                  osp.join(REPO, 'tools', 'benchmark.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
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
