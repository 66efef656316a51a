# Single-date reference for the temporal models on Sen12Landslides S12LS-LD: the timm U-Net
# (EfficientNet-B0) on the first post-event Sentinel-2 date (+ DEM) only.
_base_ = [
    '../_base_/models/timm_unet.py', '../_base_/datasets/sen12landslides.py',
    '../_base_/default_runtime.py', '../_base_/schedules/adamw_sen12landslides.py'
]
_post = dict(dates='post')
train_dataloader = dict(dataset=_post)
val_dataloader = dict(dataset=_post)
test_dataloader = dict(dataset=_post)
# the same loss as the U-TAE configs, so that only the input differs
model = dict(
    backbone=dict(in_channels={{_base_.in_channels}}),
    decode_head=dict(loss_decode=[
        dict(type='BinaryCrossEntropyLoss', pos_weight=5.0, loss_weight=0.5),
        dict(type='BinaryDiceLoss', loss_weight=0.5)]))
