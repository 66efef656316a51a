# DiGATe-UNet on Landslide4Sense: stream A = RGB (Sentinel-2 B4, B3, B2), stream B = NDVI, slope,
# DEM (the three non-RGB cues the paper's topography stream generalises to: vegetation loss,
# steepness, elevation). Both streams have three channels, so ImageNet-shaped encoders fit.
# Everything else is the paper's Bijie recipe (model base + Adam 3e-4 / 1e-4); 128x128 patches,
# per-band mean/std of the official baseline (dataset base). 100 epochs of 3799 images at batch
# 32 = 11900 iterations. The frozen encoders start from timm's ImageNet weights
#   (timm downloads tf_efficientnet_b4.ns_jft_in1k; offline:
#   --cfg-options model.backbone.checkpoint=/path/to/tf_efficientnet_b4.ns_jft_in1k.safetensors)
_base_ = [
    '../_base_/models/digate_unet.py',
    '../_base_/datasets/l4s.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/adam_iter.py',
]
bands = ['B4', 'B3', 'B2', 'NDVI', 'slope', 'DEM']
stream_layout = {'optical': [0, 1, 2], 'topo': [3, 4, 5]}  # same keys as the base: dicts merge
in_channels = 6
train_dataloader = dict(batch_size=32, dataset=dict(bands=bands, stream_layout=stream_layout))
val_dataloader = dict(dataset=dict(bands=bands, stream_layout=stream_layout))
test_dataloader = dict(dataset=dict(bands=bands, stream_layout=stream_layout))
model = dict(backbone=dict(stream_channels=([0, 1, 2], [3, 4, 5]), pretrained=True))
train_cfg = dict(max_iters=11900, val_interval=1190)
default_hooks = dict(checkpoint=dict(interval=1190))
