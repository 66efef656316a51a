"""Building the runner a config asks for, as every lszoo tool and API does."""
import copy
import uuid


def build_runner(cfg):
    """The runner ``cfg`` asks for (``runner_type``, else mmengine's ``Runner``), with a
    visualizer of its own.

    mmseg's runtime config names its visualizer ``'visualizer'``, and mmengine hands a runner the
    instance already created under that name: every later runner in the same process (a test
    after a calibration, each model of a comparison) wrote its config dump and scalars into the
    first runner's log folder. A unique name gives each runner its own. ``cfg`` is not modified.
    """
    cfg = copy.deepcopy(cfg)
    visualizer = cfg.get('visualizer')
    if visualizer is None:  # mmengine's default, named by the start second: shared within it
        visualizer = dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')])
    if isinstance(visualizer, dict):
        name = visualizer.get('name') or 'visualizer'
        cfg.visualizer = dict(visualizer, name=f'{name}-{uuid.uuid4().hex[:12]}')
    if 'runner_type' in cfg:
        from mmseg.registry import RUNNERS
        return RUNNERS.build(cfg)
    from mmengine.runner import Runner
    return Runner.from_cfg(cfg)


def custom_hooks_without(cfg, *types) -> list:
    """``cfg``'s ``custom_hooks`` without those of the given ``types`` (e.g. the overlay hook for
    a run that writes no pictures); ``cfg`` is not modified."""
    return [h for h in (cfg.get('custom_hooks') or []) if h.get('type') not in types]
