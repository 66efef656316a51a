"""PreciseBNHook: after the last iteration the BatchNorm statistics are recomputed over training
batches (and the last checkpoint keeps them); recompute_bn_statistics itself; bad settings."""
import pytest
import torch
from helpers import build_runner, tiny_train_config

from lszoo.engine.hooks import PreciseBNHook, recompute_bn_statistics
from lszoo.engine.hooks.precise_bn_hook import running_stat_layers
from lszoo.errors import ConfigError
from lszoo.utils.checkpoint import load_checkpoint_file


def test_last_checkpoint_holds_statistics_over_the_asked_batches(tmp_path):
    cfg = tiny_train_config(tmp_path, iters=3, interval=3, experiment_name='precise_bn',
                            custom_hooks=[dict(type='PreciseBNHook', num_batches=5)],
                            log_level='INFO')  # the hook reports at INFO
    runner = build_runner(cfg)
    runner.train()
    state = load_checkpoint_file(tmp_path / 'iter_3.pth')['state_dict']
    tracked = {k: int(v) for k, v in state.items() if k.endswith('num_batches_tracked')}
    # reset, then one update per recomputing batch: 5, not the 3 training iterations
    assert tracked and set(tracked.values()) == {5}
    layers = running_stat_layers(runner.model)
    assert all(m.momentum == 0.1 for m in layers)  # momentum restored for later use
    log = next(tmp_path.glob('*/*.log')).read_text()
    assert f'running statistics of {len(layers)} BatchNorm layers of the model recomputed over 5 ' \
           'training batches at iteration 3' in log
    assert 'EMA' not in log


def test_with_ema_the_saved_average_gets_statistics_at_its_own_weights(tmp_path):
    cfg = tiny_train_config(tmp_path, iters=3, interval=3, experiment_name='precise_bn_ema',
                            custom_hooks=[dict(type='EMAHook', momentum=0.5),
                                          dict(type='PreciseBNHook', num_batches=4)],
                            log_level='INFO')
    runner = build_runner(cfg)
    runner.train()
    ckpt = load_checkpoint_file(tmp_path / 'iter_3.pth')
    for key in ('state_dict', 'ema_state_dict'):  # the average (saved as the model) and the raw
        tracked = {int(v) for k, v in ckpt[key].items() if k.endswith('num_batches_tracked')}
        assert tracked == {4}, key
    ema = next(h for h in runner.hooks if type(h).__name__ == 'EMAHook').ema_model.module
    raw = runner.model
    # the average's weights differ from the raw ones, so must its recomputed statistics
    key = next(k for k in raw.state_dict() if k.endswith('running_var'))
    assert not torch.allclose(ema.state_dict()[key], raw.state_dict()[key])
    log = next(tmp_path.glob('*/*.log')).read_text()
    assert 'BatchNorm layers of the model recomputed' in log
    assert 'BatchNorm layers of its EMA average recomputed' in log


def test_statistics_are_the_plain_average_of_the_batches():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.BatchNorm2d(2))

    class Segmentor(torch.nn.Module):  # the segmentor surface the function uses
        def __init__(self):
            super().__init__()
            self.net = net

        def data_preprocessor(self, batch, training):
            assert training
            return dict(inputs=batch, data_samples=None)

        def forward(self, inputs, data_samples, mode):
            assert mode == 'tensor'
            return self.net(inputs)

    batches = [torch.randn(4, 2, 3, 3) + i for i in range(3)]
    model = Segmentor().eval()
    net[0].running_mean.fill_(50.0)  # stored statistics play no part
    assert recompute_bn_statistics(model, iter(batches + [torch.zeros(4, 2, 3, 3)]), 3) == (1, 3)
    expected = torch.stack([b.mean(dim=(0, 2, 3)) for b in batches]).mean(0)
    assert torch.allclose(net[0].running_mean, expected, atol=1e-6)
    assert not model.training and net[0].momentum == 0.1


def test_running_stat_layers_are_found_by_their_buffers():
    with_bn = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    without = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.GroupNorm(2, 4))
    assert len(running_stat_layers(with_bn)) == 1
    assert running_stat_layers(without) == []
    assert recompute_bn_statistics(without, iter([]), 3) == (0, 0)


@pytest.mark.parametrize('bad', [0, -1, 2.5, True, '10'])
def test_num_batches_must_be_a_positive_integer(bad):
    with pytest.raises(ConfigError, match='PreciseBNHook: num_batches must be an integer >= 1'):
        PreciseBNHook(num_batches=bad)


def test_an_empty_loader_is_an_error_and_leaves_the_momentum():
    bn = torch.nn.BatchNorm2d(2)

    class Segmentor(torch.nn.Sequential):
        def data_preprocessor(self, batch, training):
            return dict(inputs=batch, data_samples=None)

    model = Segmentor(bn)
    with pytest.raises(ConfigError, match='gave no batch'):
        recompute_bn_statistics(model, iter([]), 3)
    assert bn.momentum == 0.1
