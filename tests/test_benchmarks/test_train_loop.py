"""benchmarks.train_loop: the runner config it times is the timm U-Net ResNet-18 of the real
benchmark, with no checkpoint or validation inside the timed run; ratios are per iteration."""
import pytest

from benchmarks import train_loop as tl


def test_loop_config_trains_resnet18_without_saving_inside_the_run(realdata_root, tmp_path):
    cfg = tl.loop_config(f'{realdata_root}/bijie_mini', str(tmp_path), 12, 4, 256, 0)
    assert cfg.model.backbone.model_name == 'resnet18'
    assert cfg.train_dataloader.batch_size == 4 and cfg.train_dataloader.num_workers == 0
    assert cfg.train_cfg.max_iters == 12
    ckpt = cfg.default_hooks.checkpoint
    assert ckpt.interval > 12 and ckpt.save_last is False
    assert cfg.default_hooks.logger.interval == 50
    assert cfg.val_cfg is None


def test_ratios_are_per_iteration():
    r = tl.ratios([1.0, 2.0, 4.0], [1.5, 2.0, 2.0])
    assert r['median'] == pytest.approx(1.0)
    assert (r['min'], r['max']) == (pytest.approx(0.5), pytest.approx(1.5))
