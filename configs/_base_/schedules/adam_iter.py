# Iteration-based schedule with Adam and a constant learning rate (DiGATe-UNet's recipe:
# Adam lr 3e-4, weight decay 1e-4, no schedule). Override in an experiment config, e.g.
#   train_cfg = dict(max_iters=4000, val_interval=1000)
#   optim_wrapper = dict(optimizer=dict(lr=1e-3))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=3e-4, betas=(0.9, 0.999), weight_decay=1e-4),
    clip_grad=None)
param_scheduler = []  # constant learning rate
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000, val_interval=500)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# SafeRotationCheckpointHook (lszoo/engine/hooks/safe_checkpoint_hook.py): CheckpointHook that
# deletes old checkpoints only after the new one is complete (docs/safety.md).
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='SafeRotationCheckpointHook', by_epoch=False, interval=500,
                    max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
