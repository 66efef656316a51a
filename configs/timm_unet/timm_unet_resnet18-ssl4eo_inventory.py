# timm U-Net with a ResNet-18 encoder pre-trained on Sentinel-2 (SSL4EO-S12 MoCo, 13 bands,
# CC-BY-4.0, published by torchgeo), on your own scenes + inventory. The first layer is rebuilt
# for the config's `bands` by name: filters of the Sentinel-2 bands you have are copied, the
# others (e.g. DEM) start from the mean filter; the log lists both. The encoder was trained on
# reflectance / 10000: the pipeline divides by 10000 (DEM metres / 10000 too, harmless).
# Offline: --cfg-options model.backbone.eo_weights=/path/resnet18_sentinel2_all_moco-59bfdff9.pth
_base_ = ['./timm_unet_inventory.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='EOTimmBackbone',
        model_name='resnet18',
        bands={{_base_.bands}},
        eo_weights='ssl4eo_s12_resnet18_moco',
        eo_bands=None,  # a renamed local file: its 13 bands in order (B1..B8, B8A, B9..B12)
        features_only=True))  # decoder widths follow the encoder (in_channels='auto')
train_pipeline = {{_base_.s2_reflectance_train_pipeline}}
test_pipeline = {{_base_.s2_reflectance_test_pipeline}}  # tools/infer_scene.py reads this one
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
