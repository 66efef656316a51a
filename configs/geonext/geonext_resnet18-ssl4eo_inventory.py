# GeoNeXt-style model on your own scenes + inventory: GeoNeXt's PSA-ASPP decoder and recipe (loss,
# EMA, threshold) on a ResNet-18 encoder pre-trained on Sentinel-2 (SSL4EO-S12 MoCo, 13 bands,
# CC-BY-4.0, published by torchgeo; torchgeo publishes no ConvNeXt Sentinel-2 weights). ResNet-18
# rather than -50: its widths 64, 128, 256, 512 at strides 4..32 are near ConvNeXt V2-nano's
# (80..640), so the decoder stays GeoNeXt-light; ResNet-50's four times wider maps (256..2048)
# make the decoder's convolutions, whose weights grow with the square of the width, about 16
# times larger. For ResNet-50 (the decoder's widths follow the encoder, in_channels='auto'):
#   --cfg-options model.backbone.model_name=resnet50 \
#                 model.backbone.eo_weights=ssl4eo_s12_resnet50_moco
# The first layer is rebuilt for `bands` by name (Sentinel-2 filters copied, the DEM's
# initialised; the log lists both); the pipeline divides by 10000 as in pre-training.
# Set your files as in docs/own_data.md; offline, with the file fetched elsewhere:
#   --cfg-options model.backbone.eo_weights=/path/resnet18_sentinel2_all_moco-59bfdff9.pth
_base_ = ['./geonext-atto_inventory.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='EOTimmBackbone',
        model_name='resnet18',
        bands={{_base_.bands}},
        eo_weights='ssl4eo_s12_resnet18_moco',
        eo_bands=None,  # a renamed local file: its 13 bands in order (B1..B8, B8A, B9..B12)
        features_only=True,
        out_indices=(1, 2, 3, 4)),  # strides 4..32, the four levels the PSA-ASPP head reads
    decode_head=dict(in_channels='auto'))
train_pipeline = {{_base_.s2_reflectance_train_pipeline}}
test_pipeline = {{_base_.s2_reflectance_test_pipeline}}  # tools/infer_scene.py reads this one
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
