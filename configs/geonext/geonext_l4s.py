# GeoNeXt-tiny on Landslide4Sense, all 14 bands (the encoder stem takes 14 channels). The paper's
# recipe scales inputs to [0, 1] instead of the official mean/std: per-image, per-band min-max.
# 60 epochs of 3799 images at batch 8.
#   python tools/train.py configs/geonext/geonext_l4s.py
_base_ = [
    '../_base_/models/geonext.py',
    '../_base_/datasets/l4s.py',
    '../_base_/schedules/adam_iter.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone=dict(in_channels={{_base_.in_channels}}, pretrained=True))
train_pipeline = [
    dict(type='LoadLandslideSample'),
    dict(type='NormalizeBands', mode='minmax'),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='RandomRot90', prob=0.5),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
test_pipeline = [
    dict(type='LoadLandslideSample'),
    dict(type='NormalizeBands', mode='minmax'),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
# constant 3.5e-3 / 65: the reference never steps its OneCycle (docs/models/geonext.md)
optim_wrapper = dict(optimizer=dict(lr=3.5e-3 / 65, weight_decay=0.0))
train_cfg = dict(max_iters=60 * 475, val_interval=475)  # validate every epoch
default_hooks = dict(checkpoint=dict(interval=475, max_keep_ckpts=2, save_best='mIoU',
                                     rule='greater'))
