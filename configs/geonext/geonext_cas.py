# GeoNeXt-tiny on CAS Landslide (RGB tiles 512x512 scaled to [0, 1]; 7:3 split per
# sub-dataset). 60 epochs of about 14,600 training tiles at batch 8 (1826 iterations per epoch).
#   python tools/train.py configs/geonext/geonext_cas.py
_base_ = [
    '../_base_/models/geonext.py',
    '../_base_/datasets/cas.py',
    '../_base_/schedules/adam_iter.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone=dict(in_channels={{_base_.in_channels}}))
optim_wrapper = dict(optimizer=dict(lr=1e-4, weight_decay=0.0))
train_cfg = dict(max_iters=60 * 1826, val_interval=5 * 1826)
default_hooks = dict(checkpoint=dict(interval=5 * 1826, max_keep_ckpts=2))
