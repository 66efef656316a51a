# GeoNeXt-tiny on GVLM (post-event RGB tiles, 256x256, scaled to [0, 1]; 60/20/20 split of
# tiles). Cut the scenes first: python tools/dataset_converters/gvlm.py data/gvlm --size 256
# The number of tiles depends on the cut: set max_iters to 60 * ceil(train tiles / 8).
#   python tools/train.py configs/geonext/geonext_gvlm.py
_base_ = [
    '../_base_/models/geonext.py',
    '../_base_/datasets/gvlm.py',
    '../_base_/schedules/adam_iter.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone=dict(in_channels={{_base_.in_channels}}, pretrained=True))
# constant 3.5e-3 / 65: the reference never steps its OneCycle (docs/models/geonext.md)
optim_wrapper = dict(optimizer=dict(lr=3.5e-3 / 65, weight_decay=0.0))
train_cfg = dict(max_iters=20000, val_interval=2000)
default_hooks = dict(checkpoint=dict(interval=2000, max_keep_ckpts=2, save_best='mIoU',
                                     rule='greater'))
