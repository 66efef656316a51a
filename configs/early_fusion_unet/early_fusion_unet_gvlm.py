# Early-fusion U-Net on GVLM pre/post pairs: both dates stacked as six input channels of the timm
# U-Net (EfficientNet-B0 encoder, random init), which learns its own comparison from the first
# layer on. The simplest change model; docs/change_detection.md.
_base_ = [
    '../_base_/models/timm_unet.py', '../_base_/datasets/gvlm_change.py',
    '../_base_/default_runtime.py', '../_base_/schedules/adam_warmup_poly_bce_dice.py'
]
model = dict(backbone=dict(in_channels={{_base_.in_channels}}))
