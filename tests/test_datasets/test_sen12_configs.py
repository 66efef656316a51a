"""Every config reading Sen12Landslides trains one step and tests on a tiny synthetic copy.

(tests/test_all_configs.py covers the other datasets; its writer table has no Sen12Landslides
entry, so these configs are exercised here the same way: lszoo.testing.shrink_config.)
"""
import glob
import math
import os.path as osp

import pytest
from helpers import REPO

CONFIGS = sorted(p for p in glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
                 if 'sen12' in osp.basename(p))


@pytest.fixture(scope='module')
def sen12_root(tmp_path_factory):
    from lszoo.datasets.synthetic_sen12 import write_sen12_synthetic
    return str(write_sen12_synthetic(tmp_path_factory.mktemp('sen12'), patches=8, size=32))


def test_sen12_configs_found():
    names = {osp.basename(p) for p in CONFIGS}
    assert {'utae_sen12ls-ld_s2.py', 'utae_sen12ls-ld_s1asc.py', 'utae_sen12ls-ld_s1dsc.py',
            'utae_sen12ls-ld_s1s2.py', 'timm_unet_sen12ls-ld_s2-post.py',
            'utae_sen12_synthetic.py'} <= names


@pytest.mark.parametrize('config', CONFIGS, ids=[osp.basename(p) for p in CONFIGS])
def test_sen12_config_trains_one_step_and_tests(config, sen12_root, tmp_path):
    from mmengine.config import Config

    from lszoo.engine import build_runner
    from lszoo.testing import shrink_config

    cfg = shrink_config(Config.fromfile(config), tmp_path / 'work', data_root=sen12_root,
                        iters=1, batch_size=2, crop=32)
    cfg.default_hooks.checkpoint.save_optimizer = False
    runner = build_runner(cfg)
    runner.train()
    assert math.isfinite(runner.message_hub.get_scalar('train/loss').current())
    metrics = runner.test()
    assert 'IoU' in metrics and 'mIoU' in metrics
