# FC-Siam-diff / FC-Siam-conc (Daudt, Le Saux, Boulch, "Fully Convolutional Siamese Networks for
# Change Detection", ICIP 2018) on a timm encoder: one encoder shared by both dates
# (SiameseEncoder), the two dates' maps fused level by level (TemporalFusionNeck: 'abs_diff' for
# -diff, 'concat' for -conc) and the timm U-Net's decoder over the fused pyramid.
# Any timm features_only encoder by its name:
#   --cfg-options model.backbone.encoder.model_name=resnet18
_base_ = ['./timm_unet.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='SiameseEncoder',
        encoder=dict(type='TIMMBackbone', model_name='efficientnet_b0', features_only=True,
                     pretrained=False),
        stream_channels=dict(post=[0, 1, 2], pre=[3, 4, 5])),
    neck=dict(type='TemporalFusionNeck', in_channels='auto', mode='abs_diff'))
