# The Sen12Landslides authors' optimisation (configs/lit_module/binary.yaml, trainer/gpu.yaml):
# AdamW lr 1e-3, weight decay 0.01, constant rate (their scheduler is commented out), gradient
# norm clipped at 1.0, batch 16, 75 epochs (README). 75 epochs of the S12LS-LD S2 training split
# (4,988 x 0.8 x 0.8 ~ 3,192 patches / 16) ~ 15,000 iterations.
_base_ = ['./adam_iter.py']
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-3, weight_decay=0.01),
    clip_grad=dict(_delete_=True, max_norm=1.0))
train_cfg = dict(max_iters=15000, val_interval=1000)
default_hooks = dict(checkpoint=dict(interval=1000))
