# DiGATe-UNet on your own scenes + inventory: stream A = red, green, blue (B4, B3, B2), stream B =
# the DEM (warped to each scene on the fly) repeated to three channels, as the paper's Bijie
# recipe does. The paper's frozen tf_efficientnet_b4 encoders need ImageNet weights:
#   --cfg-options model.backbone.checkpoint=/path/to/tf_efficientnet_b4.pth
# Set your files as in docs/own_data.md, then
#   python tools/train.py configs/digate_unet/digate_unet_inventory.py
_base_ = [
    '../_base_/models/digate_unet.py',
    '../_base_/datasets/inventory.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/adam_iter.py',
]
bands = ['B4', 'B3', 'B2', 'DEM']
stream_layout = {'optical': [0, 1, 2], 'topo': [3]}  # same keys as the base: dicts merge
in_channels = 4
train_dataloader = dict(dataset=dict(bands=bands, stream_layout=stream_layout))
val_dataloader = dict(dataset=dict(bands=bands, stream_layout=stream_layout))
test_dataloader = dict(dataset=dict(bands=bands, stream_layout=stream_layout))
model = dict(backbone=dict(stream_channels=([0, 1, 2], [3, 3, 3])))
