"""lszoo.engine.runner.build_runner: each runner of a process writes into its own log folder."""
import json
import os.path as osp

from mmengine.config import Config

import lszoo  # noqa: F401
from lszoo.engine import LSZooRunner, build_runner


def _scalar_steps(log_dir):
    with open(osp.join(log_dir, 'vis_data', 'scalars.json')) as f:
        return [json.loads(line)['step'] for line in f]


def test_two_runners_in_one_process_keep_their_own_logs(tiny_config, tmp_path):
    """mmseg's runtime config names its visualizer 'visualizer'; built with mmengine's
    ``Runner.from_cfg`` the second runner reuses the first one's and writes into its folder."""
    cfg = Config.fromfile(tiny_config(iters=2))
    assert cfg.visualizer.name == 'visualizer'
    first = build_runner(Config(dict(cfg.to_dict(), work_dir=str(tmp_path / 'a'))))
    first.train()
    second = build_runner(Config(dict(cfg.to_dict(), work_dir=str(tmp_path / 'b'))))
    second.train()
    assert isinstance(first, LSZooRunner) and isinstance(second, LSZooRunner)
    assert first.visualizer is not second.visualizer
    for runner in (first, second):
        assert runner.log_dir.startswith(runner.work_dir)
        assert osp.isfile(osp.join(runner.log_dir, 'vis_data', 'config.py'))
        assert _scalar_steps(runner.log_dir) == [1, 2, 2]  # its 2 iterations + validation, no more
    assert cfg.visualizer.name == 'visualizer'  # the caller's config is not changed
