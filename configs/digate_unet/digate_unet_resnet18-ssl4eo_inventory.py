# DiGATe-UNet on your own scenes + inventory with ResNet-18 encoders, the optical stream (A: B4,
# B3, B2) started from Sentinel-2 weights (SSL4EO-S12 MoCo, 13 bands, CC-BY-4.0, published by
# torchgeo). Stream A's first layer is rebuilt for its bands by name (the log lists which band got
# which filter); the DEM stream (B: the DEM x3) keeps its own start: timm's initialisation here,
# ImageNet with model.backbone.pretrained=True (timm download), or EO weights too with
# "model.backbone.eo_weights=[ssl4eo_s12_resnet18_moco,ssl4eo_s12_resnet18_moco]".
# Stream A is frozen as the paper freezes its pre-trained encoders; stream B, with no
# pre-training, trains (model.backbone.frozen=False fine-tunes both). The encoder saw reflectance
# / 10000: the pipeline divides by 10000. The neck's and head's widths follow ResNet-18 (64, 64,
# 128, 256, 512 at strides 2..32; in_channels='auto'). Set your files as in docs/own_data.md;
# offline, with the file fetched elsewhere:
#   --cfg-options model.backbone.eo_weights=/path/resnet18_sentinel2_all_moco-59bfdff9.pth
_base_ = ['./digate_unet_inventory.py']
model = dict(
    backbone=dict(
        model_name='resnet18',
        bands={{_base_.bands}},
        eo_weights='ssl4eo_s12_resnet18_moco',  # one name/file: stream A; a pair: per stream
        eo_bands=None,  # a renamed local file: its 13 bands in order (B1..B8, B8A, B9..B12)
        frozen=(True, False),
        pretrained=False))
train_pipeline = {{_base_.s2_reflectance_train_pipeline}}
test_pipeline = {{_base_.s2_reflectance_test_pipeline}}  # tools/infer_scene.py reads this one
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
