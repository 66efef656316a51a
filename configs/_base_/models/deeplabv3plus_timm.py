# DeepLabV3+ (Chen et al., ECCV 2018) with a light timm encoder: MobileNetV2 (Sandler et al.,
# CVPR 2018; the light encoder of the DeepLabV3+ paper's release) at output stride 16, through
# mmsegmentation's `TIMMBackbone`. timm's `out_indices=(1, 4)` returns the stride-4 map (low-level
# features, 24 ch) and the last map (320 ch, dilated to stride 16).
# Swap the encoder with e.g.
#   model = dict(backbone=dict(model_name='efficientnet_b0'),
#                decode_head=dict(in_channels=320, c1_in_channels=24))
_base_ = ['./deeplabv3plus_r50.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(
        _delete_=True,
        type='TIMMBackbone',
        model_name='mobilenetv2_100',
        features_only=True,
        pretrained=False,
        in_channels=3,
        out_indices=(1, 4),
        output_stride=16),
    decode_head=dict(
        in_channels=320,
        in_index=1,
        channels=256,
        dilations=(1, 6, 12, 18),
        c1_in_channels=24,
        c1_channels=48),
    auxiliary_head=None)
