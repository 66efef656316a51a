# Bi-temporal GeoNeXt-tiny on GVLM pre/post pairs (shared ConvNeXt V2 encoder from the paper's
# ImageNet weights, downloaded by timm when training starts; offline:
#   --cfg-options model.backbone.encoder.checkpoint=/path/file model.backbone.pretrained=False).
# Recipe as geonext_gvlm.py.
_base_ = [
    '../_base_/models/geonext_bitemporal.py',
    '../_base_/datasets/gvlm_change.py',
    '../_base_/schedules/adam_iter.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone=dict(pretrained=True))
optim_wrapper = dict(optimizer=dict(lr=3.5e-3 / 65, weight_decay=0.0))
train_cfg = dict(max_iters=20000, val_interval=2000)
default_hooks = dict(checkpoint=dict(interval=2000, max_keep_ckpts=2, save_best='mIoU',
                                     rule='greater'))
