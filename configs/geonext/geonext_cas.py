# GeoNeXt-tiny on CAS Landslide (RGB tiles 512x512), trained as the reference code (github
# ruribev/GeoNeXt) runs it: batch 8, 60 epochs of about 14,600 tiles, validation every epoch
# (the recipe table: docs/models/geonext.md).
#   python tools/train.py configs/geonext/geonext_cas.py
# Offline: --cfg-options model.backbone.checkpoint=PATH (convnextv2_tiny.fcmae_ft_in22k_in1k)
_base_ = [
    '../_base_/models/geonext.py',
    '../_base_/datasets/cas.py',
    '../_base_/schedules/adam_iter.py',
    '../_base_/default_runtime.py',
]
iters_per_epoch = 1826  # about 14,600 tiles at batch 8
model = dict(backbone=dict(in_channels={{_base_.in_channels}}, pretrained=True))
# The reference's augmentations (utils/augmentations.py, the paper run's settings).
train_pipeline = [
    dict(type='LoadLandslideSample'),
    dict(type='NormalizeBands', mode='scale', scale=255.0),  # torchvision ToTensor: uint8 / 255
    dict(type='RandomFlip', prob=0.35, direction='horizontal'),
    dict(type='RandomRotate', prob=1.0, degree=8, pad_val=0, seg_pad_val=0),
    dict(type='BandColorJitter', brightness=0.06, contrast=0.06, saturation=0.06, hue=0.02),
    dict(type='RandomElasticDeform', alpha=85.0, sigma=4.5, prob=0.2),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# the reference's OneCycleLR(max_lr=3.5e-3, div_factor=65) is never stepped: Adam stays at its
# start rate (the OneCycle the paper describes: docs/models/geonext.md)
optim_wrapper = dict(optimizer=dict(lr=3.5e-3 / 65, weight_decay=0.0))
train_cfg = dict(max_iters=60 * iters_per_epoch, val_interval=iters_per_epoch)
default_hooks = dict(checkpoint=dict(interval=iters_per_epoch, max_keep_ckpts=2,
                                     save_best='mIoU', rule='greater'))
