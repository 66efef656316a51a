"""Recompute BatchNorm statistics over training batches when training ends ("precise BN").

During training each BatchNorm layer keeps its running statistics as an exponential average
(momentum 0.1) over the last few dozen batches, taken while the weights still moved. With small
batches and a run that ends at a high learning rate (a constant rate, or a schedule longer than
the run) those statistics lag the final weights, and the model is scored with statistics of
weights it no longer has. This hook replaces them, after the last iteration and before the last
checkpoint is saved, by the plain average over ``num_batches`` batches of the training pipeline
at the final weights (Wu & Johnson, *Rethinking "Batch" in BatchNorm*, 2021; the mechanism of
``torch.optim.swa_utils.update_bn`` and mmpretrain's ``PreciseBNHook``). Evidence:
``docs/benchmarks/recipes.md`` section 4.
"""
import copy

import torch
from mmengine.dist import all_reduce
from mmengine.hooks import EMAHook, Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

from lszoo.errors import ConfigError


def running_stat_layers(model: torch.nn.Module) -> list:
    """The normalisation layers that keep running statistics (BatchNorm and its kin)."""
    return [m for m in model.modules() if getattr(m, 'running_mean', None) is not None]


@torch.no_grad()
def recompute_bn_statistics(model: torch.nn.Module, loader, num_batches: int) -> tuple:
    """Set the running statistics of ``model``'s BatchNorm layers to their plain average over
    the first ``num_batches`` batches of ``loader`` (mmengine data batches, preprocessed by the
    model's ``data_preprocessor`` as in training); weights are not touched. Returns ``(layers
    recomputed, batches averaged)``. Under distributed training the ranks' averages are
    averaged."""
    layers = running_stat_layers(model)
    if not layers:
        return 0, 0
    momenta = {m: m.momentum for m in layers}
    was_training = model.training
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    model.train()
    try:
        seen = 0
        for _, batch in zip(range(num_batches), loader):
            data = model.data_preprocessor(batch, training=True)
            model(data['inputs'], data['data_samples'], mode='tensor')
            seen += 1
        if seen == 0:
            raise ConfigError('precise BN: the training data loader gave no batch')
        for m in layers:
            all_reduce(m.running_mean, op='mean')
            all_reduce(m.running_var, op='mean')
    finally:
        for m, momentum in momenta.items():
            m.momentum = momentum
        model.train(was_training)
    return len(layers), seen


@HOOKS.register_module()
class PreciseBNHook(Hook):
    """Recompute BatchNorm statistics over ``num_batches`` training batches after the last
    iteration, so the last checkpoint (and the final validation) use statistics of the final
    weights. With an ``EMAHook`` (GeoNeXt's configs) the averaged model's statistics are
    recomputed too, at the averaged weights: the checkpoint saves that model. The log says how
    many layers and batches; a model without BatchNorm logs a warning.

    Args:
        num_batches: training batches averaged (of the config's ``train_dataloader``, rebuilt
            with the run's seed; 100 batches of 4 are a few hundred forward passes).
    """

    # after EMAHook (NORMAL) has made its last update, before CheckpointHook (VERY_LOW) saves
    priority = 'BELOW_NORMAL'

    def __init__(self, num_batches: int = 100):
        if isinstance(num_batches, bool) or not isinstance(num_batches, int) or num_batches < 1:
            raise ConfigError(f'PreciseBNHook: num_batches must be an integer >= 1, got '
                              f'{num_batches!r}')
        self.num_batches = num_batches

    def before_train(self, runner) -> None:
        if not runner.cfg.get('train_dataloader'):
            name = getattr(runner.cfg, 'filename', None) or '<config>'
            raise ConfigError(f'PreciseBNHook: config {name} has no train_dataloader to '
                              'recompute BatchNorm statistics from')

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if not self.is_last_train_iter(runner):
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        models = [('the model', model)] + [
            ('its EMA average', hook.ema_model.module) for hook in runner.hooks
            if isinstance(hook, EMAHook) and getattr(hook, 'ema_model', None) is not None]
        for name, net in models:
            loader = runner.build_dataloader(copy.deepcopy(runner.cfg.train_dataloader),
                                             seed=runner.seed)
            layers, batches = recompute_bn_statistics(net, loader, self.num_batches)
            if not layers:  # the EMA average is a copy of the model: none there either
                runner.logger.warning('PreciseBNHook: the model has no BatchNorm running '
                                      'statistics; nothing recomputed')
                return
            runner.logger.info(f'PreciseBNHook: running statistics of {layers} BatchNorm layers '
                               f'of {name} recomputed over {batches} training batches at '
                               f'iteration {runner.iter + 1}')
