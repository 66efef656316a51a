"""lszoo.config.start_checks: load_from of another model and --resume of another band set are
refused before training, listing what does not fit; --partial-load is the explicit opt-in."""

import pytest

import lszoo  # noqa: F401
from lszoo.config.start_checks import check_start_checkpoint, start_checkpoint
from lszoo.errors import CheckpointError

from helpers import build_runner, tiny_train_config


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A work dir holding iter_2.pth of the 5-band tiny UNet."""
    work = tmp_path_factory.mktemp('trained')
    build_runner(tiny_train_config(work, iters=2, interval=2)).train()
    return work


def _other_bands(cfg):
    cfg['model']['backbone']['in_channels'] = 4
    return cfg


def test_resume_with_another_band_set_is_refused_before_training(trained, tmp_path):
    runner = build_runner(_other_bands(tiny_train_config(trained, iters=4, resume=True)))
    assert start_checkpoint(runner) == (str(trained / 'iter_2.pth'), True)
    with pytest.raises(CheckpointError) as info:
        check_start_checkpoint(runner)
    msg = str(info.value)
    assert msg.startswith(f'--resume checkpoint {trained / "iter_2.pth"}: does not fit the model '
                          'of this config: 1 shape mismatch(es), e.g. backbone.encoder.0.0.convs'
                          '.0.conv.weight (4, 5, 3, 3) in the checkpoint vs (4, 4, 3, 3) in the '
                          'model')
    assert '--resume continues the very run' in msg and '\n' not in msg
    # the same band set resumes
    ok = build_runner(tiny_train_config(trained, iters=4, resume=True))
    assert check_start_checkpoint(ok) == str(trained / 'iter_2.pth')


def test_load_from_another_model_is_an_error_unless_partial(trained, tmp_path):
    cfg = tiny_train_config(tmp_path / 'w', iters=1, load_from=str(trained / 'iter_2.pth'))
    cfg['model']['decode_head']['num_classes'] = 3  # a dataset with other classes
    runner = build_runner(cfg)
    with pytest.raises(CheckpointError, match=r'^load_from checkpoint .*iter_2\.pth: does not '
                                              r'fit the model of this config: 2 shape '
                                              r'mismatch\(es\), e\.g\. decode_head\.conv_seg\.'
                                              r'weight \(2, 4, 1, 1\) in the checkpoint vs '
                                              r'\(3, 4, 1, 1\).*pass --partial-load'):
        check_start_checkpoint(runner)
    logged = []
    runner.logger.warning = logged.append
    assert check_start_checkpoint(runner, partial=True) == str(trained / 'iter_2.pth')
    assert len(logged) == 1 and logged[0].startswith('--partial-load: load_from checkpoint')
    assert 'decode_head.conv_seg.weight' in logged[0]


def test_nothing_to_check(tmp_path):
    runner = build_runner(tiny_train_config(tmp_path / 'empty', iters=1, resume=True))
    assert start_checkpoint(runner) == (None, True)
    assert check_start_checkpoint(runner) is None
