# GeoNeXt with the smallest ConvNeXt V2 encoder (atto) on your own scenes + inventory
# (configs/_base_/datasets/inventory.py; per-window min-max scaling as in the paper's recipe).
# Set your files as in docs/own_data.md, then
#   python tools/train.py configs/geonext/geonext-atto_inventory.py
_base_ = [
    '../_base_/models/geonext.py',
    '../_base_/datasets/inventory.py',
    '../_base_/schedules/adam_iter.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(arch='atto', in_channels={{_base_.in_channels}}),
    decode_head=dict(in_channels=[40, 80, 160, 320]))
optim_wrapper = dict(optimizer=dict(lr=1e-4, weight_decay=0.0))
