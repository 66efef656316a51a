_base_ = [
    '../_base_/models/unet.py', '../_base_/datasets/bijie.py',
    '../_base_/default_runtime.py', '../_base_/schedules/adam_warmup_poly_bce_dice.py',
    '../_base_/precise_bn.py'  # BatchNorm statistics recomputed at the end (recipes.md, section 4)
]
model = dict(backbone=dict(in_channels={{_base_.in_channels}}))
