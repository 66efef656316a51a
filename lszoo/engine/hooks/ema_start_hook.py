"""mmengine's ``EMAHook``, with the average starting from the weights training starts from.

mmengine's runner builds the EMA copy in ``before_run``, *before* ``init_weights`` loads
pretrained weights (ConvNeXt V2's ImageNet start, the SSL4EO encoders). ``load_from`` is copied
into the average afterwards (``EMAHook.after_load_checkpoint``), pretrained weights are not: the
average would start from the random initialisation. With mmengine's plain EMA that does not
matter (it copies the weights at its first update); with :class:`WarmupExponentialMovingAverage`
(GeoNeXt's reference, whose average starts from the model as built, pretrained weights included)
the first updates would blend in random weights.
"""
from mmengine.hooks import EMAHook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class LSZooEMAHook(EMAHook):
    """``EMAHook`` that, when training starts and the average has not been updated yet, sets the
    average to the model's weights as they are then (after ``init_weights``, ``load_from`` and
    ``resume``). A resumed run whose average has been updated keeps it. Arguments: ``EMAHook``'s."""

    def before_train(self, runner) -> None:
        super().before_train(runner)
        ema = self.ema_model
        first = int(getattr(ema, 'first_step', 0))
        if int(ema.steps) <= first:  # not updated yet
            ema.module.load_state_dict(self.src_model.state_dict())
