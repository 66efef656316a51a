"""The run console: a few lines of settings before the first progress line, the full dump (the
environment, the config, the hook table) in the log file, and no notice that means nothing for an
lszoo run."""
import logging

from helpers import run_tool

from lszoo.engine.console import QuietConsole, adapt_log_interval


def _record(msg, level=logging.INFO):
    return logging.LogRecord('x', level, __file__, 1, msg, None, None)


def test_the_filter_drops_dumps_and_noise_and_keeps_problems():
    f = QuietConsole()
    assert f.filter(_record('Iter(train) [ 10/300]  lr: 1e-3  loss: 0.5'))
    assert not f.filter(_record('Config:\n' + 'a = 1\n' * 300))
    assert not f.filter(_record('x' * 2226))  # torch's build-settings line
    assert not f.filter(_record('"FileClient" will be deprecated in future.', logging.WARNING))
    assert f.filter(_record('lszoo: error: something\nwith detail', logging.ERROR))
    assert f.filter(_record('loss is NaN at iteration 7', logging.WARNING))


def test_short_runs_log_progress_at_least_every_tenth():
    hooks = dict(logger=dict(type='LoggerHook', interval=50))
    adapt_log_interval(hooks, dict(max_iters=20))
    assert hooks['logger']['interval'] == 2
    hooks = dict(logger=dict(type='LoggerHook', interval=50))
    adapt_log_interval(hooks, dict(max_iters=3000))
    assert hooks['logger']['interval'] == 50


def test_train_console_has_under_60_lines_before_progress(tiny_config, tmp_path):
    cfg = tiny_config(options={'log_level': 'INFO', 'train_cfg.max_iters': 4,
                               'train_cfg.val_interval': 1000,
                               'default_hooks.logger.interval': 1})
    r = run_tool('train.py', cfg, '--work-dir', tmp_path / 'w', '--no-test')
    assert r.returncode == 0, r.stderr[-2000:]
    lines = (r.stdout + r.stderr).splitlines()
    first = next(i for i, line in enumerate(lines) if 'Iter(train)' in line)
    assert first < 60, '\n'.join(lines[:first])
    text = '\n'.join(lines)
    for dump in ('System environment', 'Config:', 'Hooks will be executed', 'GPU number',
                 'The draw is False', 'FileClient'):
        assert dump not in text, dump
    assert 'full log (environment, config, hooks): ' in text
    log_file = text.split('full log (environment, config, hooks): ')[1].split()[0]
    with open(log_file) as f:
        full = f.read()
    assert 'System environment' in full and 'Config:' in full and 'Hooks will be' in full
