_base_ = [
    '../_base_/models/segformer_mit_b0.py', '../_base_/datasets/l4s.py',
    '../_base_/default_runtime.py', '../_base_/schedules/adam_warmup_poly_bce_dice.py',
    '../_base_/calibrate_threshold.py'
]
model = dict(backbone=dict(in_channels={{_base_.in_channels}}))
