# timm U-Net (EfficientNet-B0 encoder) on your own scenes + inventory (configs/_base_/datasets/
# inventory.py: windows read on the fly, 5 km spatial blocks -> train/val/test). Set your files
# as in docs/own_data.md, then
#   python tools/train.py configs/timm_unet/timm_unet_inventory.py
_base_ = [
    '../_base_/models/timm_unet.py', '../_base_/datasets/inventory.py',
    '../_base_/default_runtime.py', '../_base_/schedules/adam_iter.py'
]
model = dict(backbone=dict(in_channels={{_base_.in_channels}}))
