# FC-Siam-diff on GVLM pre/post pairs: shared EfficientNet-B0 encoder, |post - pre| per level,
# U-Net decoder; docs/change_detection.md.
_base_ = [
    '../_base_/models/fc_siam_unet.py', '../_base_/datasets/gvlm_change.py',
    '../_base_/default_runtime.py', '../_base_/schedules/adam_warmup_poly_bce_dice.py'
]
