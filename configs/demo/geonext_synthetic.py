# CPU demo: GeoNeXt with the smallest ConvNeXt V2 encoder (atto, 4.9 M parameters) on lszoo's
# synthetic landslides (R, G, B, DEM, slope; in memory, no download):
#   python tools/train.py configs/demo/geonext_synthetic.py
# trains, validates and tests, and prints the test metrics (target: landslide IoU >= 0.6 on the
# synthetic test split within 5 CPU minutes). Same loss and EMA hook as the paper's recipe, but the EMA decay is 0.99 instead of
# 0.9999: with a few hundred iterations a 0.9999 average would still be mostly the random init.
_base_ = [
    '../_base_/models/geonext.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/adam_iter.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(arch='atto', in_channels={{_base_.in_channels}}),
    decode_head=dict(in_channels=[40, 80, 160, 320]))
# the full-resolution ASPP makes GeoNeXt costly on a CPU: train on 64x64 crops, batch 4
# (validation and test still see the whole 128x128 scenes)
train_pipeline = [
    dict(type='RandomCrop', crop_size=(64, 64)),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.0))
train_cfg = dict(max_iters=1000, val_interval=500)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=500, max_keep_ckpts=1))
custom_hooks = [
    dict(type='EMAHook', ema_type='ExponentialMovingAverage', momentum=0.01, priority=49),
]
test_after_train = True
