"""benchmarks.synthetic: every model of the synthetic study gets one budget and one test set."""
import pytest

from benchmarks import synthetic as bench
from lszoo.config.crop_size import apply_crop_size
from lszoo.errors import ConfigError


def test_synthetic_benchmark_applies_one_budget(tmp_path):
    """Every benchmark model gets the same data, world, pipeline, optimiser and iterations."""
    cfgs = [(name, bench.benchmark_config(config, str(tmp_path / name), iters=7, batch=3,
                                          crop=48, lr=5e-4, num_test=5, hard=True))
            for name, config in bench.LIGHT]
    for name, cfg in cfgs:
        assert cfg.train_cfg['max_iters'] == 7 and cfg.train_dataloader.batch_size == 3
        assert cfg.train_dataloader.dataset.pipeline[0] == dict(type='RandomCrop',
                                                                crop_size=(48, 48))
        apply_crop_size(cfg)  # what tools/train.py does: the crop must stay 48
        assert cfg.train_dataloader.dataset.pipeline[0]['crop_size'] == (48, 48)
        assert cfg.optim_wrapper['optimizer']['lr'] == 5e-4 and cfg.param_scheduler == []
        assert cfg.train_dataloader.dataset.hard and cfg.test_dataloader.dataset.hard
        assert cfg.test_dataloader.dataset.num_samples == 5 and cfg.val_cfg is None
        assert all(h['type'] != 'LandslideOverlayHook' for h in cfg.custom_hooks)
    bench.check_same_test_data(cfgs)  # no error: one test set
    cfgs[1][1].test_dataloader.dataset.seed = 99
    with pytest.raises(ConfigError, match='one test set'):
        bench.check_same_test_data(cfgs)
