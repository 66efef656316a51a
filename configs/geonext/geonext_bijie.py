# GeoNeXt-tiny on Bijie, trained as the reference code runs it (the recipe table:
# docs/models/geonext.md): RGB only (the reference feeds three channels, no DEM), resized to
# 256x256, batch 8, 60 epochs of the 1941 training images.
# The paper's Bijie model starts from the CAS-trained model instead: geonext_bijie_from_cas.py.
#   python tools/train.py configs/geonext/geonext_bijie.py
# Offline: --cfg-options model.backbone.checkpoint=PATH (convnextv2_tiny.fcmae_ft_in22k_in1k)
# Data: see configs/_base_/datasets/bijie.py (default data_root data/bijie).
_base_ = [
    '../_base_/models/geonext.py',
    '../_base_/datasets/bijie.py',
    '../_base_/schedules/adam_iter.py',
    '../_base_/default_runtime.py',
]
iters_per_epoch = 243  # 1941 images at batch 8
rgb = dict(bands=['R', 'G', 'B'], stream_layout=dict(_delete_=True, optical=[0, 1, 2]))
model = dict(backbone=dict(in_channels=3, pretrained=True))
train_pipeline = [
    dict(type='LoadLandslideSample'),
    dict(type='Resize', scale={{_base_.crop_size}}, keep_ratio=False),
    dict(type='NormalizeBands', mode='scale', scale=255.0),  # torchvision ToTensor: uint8 / 255
    dict(type='RandomFlip', prob=0.35, direction='horizontal'),
    dict(type='RandomRotate', prob=1.0, degree=8, pad_val=0, seg_pad_val=0),
    dict(type='BandColorJitter', brightness=0.06, contrast=0.06, saturation=0.06, hue=0.02),
    dict(type='RandomElasticDeform', alpha=85.0, sigma=4.5, prob=0.2),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
test_pipeline = [
    dict(type='LoadLandslideSample', with_seg=False),
    dict(type='Resize', scale={{_base_.crop_size}}, keep_ratio=False),
    dict(type='LoadLandslideAnnotations'),
    dict(type='NormalizeBands', mode='scale', scale=255.0),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline, **rgb))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline, **rgb))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline, **rgb))
# constant 3.5e-3 / 65: the reference never steps its OneCycle (docs/models/geonext.md)
optim_wrapper = dict(optimizer=dict(lr=3.5e-3 / 65, weight_decay=0.0))
train_cfg = dict(max_iters=60 * iters_per_epoch, val_interval=iters_per_epoch)
default_hooks = dict(checkpoint=dict(interval=iters_per_epoch, max_keep_ckpts=2,
                                     save_best='mIoU', rule='greater'))
