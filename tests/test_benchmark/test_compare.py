"""tools/analysis_tools/compare.py: two tiny trained models -> Markdown, CSV (every protocol column)
and PNG."""
import csv
import math
import os.path as osp

import pytest

from helpers import REPO, load_script
from lszoo.benchmark import compare as compare_lib

MODELS = {
    'unet_tiny': osp.join(REPO, 'configs', 'demo', 'unet_synthetic.py'),
    'segformer_b0': osp.join(REPO, 'configs', 'segformer', 'segformer_synthetic.py'),
}


def _compare_module():
    mod = load_script('tools/analysis_tools/compare.py')
    return mod


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """Two models trained for 2 iterations on the in-memory synthetic data: (config, work dir)."""
    from lszoo.engine import build_runner
    from lszoo.testing import shrink_config
    root = tmp_path_factory.mktemp('trained')
    out = {}
    for name, config in MODELS.items():
        cfg = shrink_config(config, root / name, iters=2, batch_size=2, crop=32)
        cfg.custom_hooks = [h for h in cfg.get('custom_hooks') or []
                            if h['type'] != 'LandslideOverlayHook']
        path = str(root / f'{name}.py')
        cfg.dump(path)
        build_runner(cfg).train()
        out[name] = (path, str(root / name))
    return out


def test_compare_writes_every_column(trained, tmp_path, capsys):
    compare = _compare_module()
    out_dir = tmp_path / 'cmp'
    args = []
    for name in MODELS:
        args += list(trained[name])
    runs = tmp_path / 'runs_elsewhere'
    rc = compare.main(args + ['--out-dir', str(out_dir), '--names', *MODELS, '--shape', '32',
                              '32', '--runs', '1', '--warmup', '0', '--title', 'tiny',
                              '--work-dir', str(runs)])
    assert rc == 0
    # the report folder holds the report; each model's test run logs under --work-dir
    assert sorted(p.name for p in out_dir.iterdir()) == [
        'comparison.csv', 'comparison.md', 'comparison.png']
    assert sorted(p.name for p in runs.iterdir()) == sorted(MODELS)
    for name in MODELS:
        assert list((runs / name).glob('*/*.log')), f'no test log for {name}'
    # CSV: all columns, one row per model, metrics are percentages
    with open(out_dir / 'comparison.csv') as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == compare_lib.CSV_FIELDS
        rows = list(reader)
    assert [r['name'] for r in rows] == list(MODELS)
    for r in rows:
        for key in compare_lib.METRIC_KEYS:
            v = float(r[key])
            assert math.isnan(v) or 0.0 <= v <= 100.0
        assert float(r['latency_ms']) > 0 and float(r['gflops']) > 0
        assert r['checkpoint'].endswith('iter_2.pth')
        assert r['input_shape'] == '1x5x32x32'  # the synthetic base's 5 bands
    # parameter count is the model's own (hand count from the built model)
    from mmengine.config import Config
    from mmseg.registry import MODELS as REG
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    for r in rows:
        model = REG.build(Config.fromfile(MODELS[r['name']]).model)
        assert int(r['params_total']) == sum(p.numel() for p in model.parameters())
    # Markdown: every protocol column, both models, the command
    md = (out_dir / 'comparison.md').read_text()
    for col in ('IoU', 'F1', 'Precision', 'Recall', 'mIoU', 'mF1', 'imgIoU', 'imgF1',
                'Params (M)', 'GFLOPs', 'Latency (ms)'):
        assert f' {col} |' in md
    assert '| unet_tiny |' in md and '| segformer_b0 |' in md
    assert 'python tools/analysis_tools/compare.py' in md
    # PNG chart
    png = (out_dir / 'comparison.png').read_bytes()
    assert png[:8] == b'\x89PNG\r\n\x1a\n' and len(png) > 1000
    assert 'comparison.{md,csv,png}' in capsys.readouterr().out


def test_threshold_override_changes_predictions(trained, tmp_path):
    """--threshold reaches LandslideMetric: at a probability of 1e-9 every pixel is landslide,
    so recall is 100 and precision is the landslide share of the pixels."""
    config, work_dir = trained['unet_tiny']
    low = compare_lib.evaluate('u', config, work_dir, str(tmp_path / 'w'), threshold=1e-9)
    assert low['Recall'] == pytest.approx(100.0)
    assert low['IoU'] == pytest.approx(low['Precision'])  # FN = 0: IoU = TP/(TP+FP)


def test_resolve_checkpoint_picks_latest(tmp_path):
    compare = compare_lib
    for n in (2, 10, 9):
        (tmp_path / f'iter_{n}.pth').write_bytes(b'x')
    assert compare.resolve_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_10.pth')
    (tmp_path / 'last_checkpoint').write_text('/elsewhere/iter_9.pth')
    assert compare.resolve_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_9.pth')


@pytest.mark.parametrize('args, msg', [
    (['a.py'], 'CONFIG CHECKPOINT pairs'),
    (['a.pth', 'b.py'], 'expected a config file'),
    (['configs/demo/unet_synthetic.py', '/nonexistent/run'], '/nonexistent/run does not exist'),
    (['configs/nope.py', '/tmp'], 'configs/nope.py does not exist'),
])
def test_bad_input_is_one_message(args, msg, tmp_path, capsys):
    compare = _compare_module()
    rc = compare.main(args + ['--out-dir', str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and msg in err and 'Traceback' not in err


def _row(name, run, iou, **extra):
    row = dict(name=name, run=run, config=f'{name}.py', checkpoint='c.pth', params_total=1e6,
               gflops=1.0, latency_ms=2.0, input_shape='1x3x8x8', device_name='cpu',
               torch_threads=1)
    row.update({k: iou for k in compare_lib.METRIC_KEYS}, **extra)
    return row


def test_table_shows_intervals_and_mean_sd_of_runs():
    import statistics
    rows = [_row('a', 1, 70.0), _row('a', 2, 74.0), _row('a', 3, 75.0),
            _row('b', 1, 50.0, IoU_ci_low=41.234, IoU_ci_high=58.9)]
    md = compare_lib.markdown_table(rows, 't', 'cmd')
    assert '| b | 50.00 [41.23, 58.90] | 50.00 |' in md  # IoU with its interval, F1 without
    assert '| a (run 2) | 74.00 |' in md
    mean, sd = statistics.mean([70, 74, 75]), statistics.stdev([70, 74, 75])
    assert f'| a | 3 | {mean:.2f} ± {sd:.2f} |' in md
    assert '| b | 1 |' not in md  # a single run has no spread to report
    assert compare_lib.metric_cell(rows[0], 'IoU') == '70.00'


def test_runs_of_one_config_must_share_it():
    from lszoo.errors import ConfigError
    pairs = ['x/a.py', 'c1', 'x/a.py', 'c2']
    assert [m[0] for m in compare_lib.split_pairs(pairs)] == ['a', 'a']
    with pytest.raises(ConfigError, match='must share the config'):
        compare_lib.split_pairs(['x/a.py', 'c1', 'y/b.py', 'c2'], ['n', 'n'])


def test_bootstrap_intervals_and_runs_reach_the_report(trained, tmp_path):
    """One config given twice (two runs) with --bootstrap: CSV interval columns that bracket
    the value, a run summary with zero spread (the same checkpoint twice)."""
    compare = _compare_module()
    config, work_dir = trained['unet_tiny']
    out_dir = tmp_path / 'cmp'
    rc = compare.main([config, work_dir, config, work_dir, '--out-dir', str(out_dir),
                       '--bootstrap', '20', '--shape', '32', '32', '--runs', '1',
                       '--warmup', '0'])
    assert rc == 0
    with open(out_dir / 'comparison.csv') as f:
        rows = list(csv.DictReader(f))
    assert [r['run'] for r in rows] == ['1', '2']
    for r in rows:
        lo, v, hi = float(r['IoU_ci_low']), float(r['IoU']), float(r['IoU_ci_high'])
        assert lo <= v <= hi
    md = (out_dir / 'comparison.md').read_text()
    assert f"{float(rows[0]['IoU']):.2f} [{float(rows[0]['IoU_ci_low']):.2f}, " in md
    stem = osp.splitext(osp.basename(config))[0]
    assert f"| {stem} | 2 | {float(rows[0]['IoU']):.2f} ± 0.00 |" in md
