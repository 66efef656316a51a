# U-Net (Ronneberger et al., MICCAI 2015) with a light timm encoder: EfficientNet-B0 (Tan & Le,
# ICML 2019) through mmsegmentation's `TIMMBackbone` (features at strides 2..32, widths
# 16, 24, 40, 112, 320) and lszoo's `UNetDecoderHead` (four skip stages and one more x2 stage
# back to full resolution). No pretrained weights; one sigmoid output channel with a threshold.
# The decoder's input widths follow the encoder (`in_channels='auto'`, filled at build time by
# AutoWidthEncoderDecoder), so any timm `features_only` encoder works by its name alone:
#   --cfg-options model.backbone.model_name=resnet18
# Experiment configs set model = dict(backbone=dict(in_channels={{_base_.in_channels}})).
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=None,
    std=None,
    bgr_to_rgb=False,
    size_divisor=32,
    pad_val=0,
    seg_pad_val=255,
    test_cfg=dict(size_divisor=32))
model = dict(
    type='AutoWidthEncoderDecoder',
    data_preprocessor=data_preprocessor,
    cpu_channels_last=True,  # oneDNN's fast layout on the CPU (docs/performance.md)
    pretrained=None,
    backbone=dict(
        type='TIMMBackbone',
        model_name='efficientnet_b0',
        features_only=True,
        pretrained=False,
        in_channels=3),
    decode_head=dict(
        type='UNetDecoderHead',
        in_channels='auto',  # efficientnet_b0: 16, 24, 40, 112, 320 (all levels)
        decoder_channels=(256, 128, 64, 32, 16),
        dropout_ratio=0.0,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        norm_cfg=norm_cfg,
        align_corners=False,
        # smp's U-Net classifier (3x3, Xavier): better on real Bijie (configs/timm_unet/README.md)
        cls_kernel_size=3,
        cls_init='xavier_uniform',
        # BCE + Dice: BCE alone learned no landslide on real Bijie (benchmarks/results/real.md)
        loss_decode=[
            dict(type='BinaryCrossEntropyLoss', loss_weight=1.0),
            dict(type='BinaryDiceLoss', loss_weight=1.0)]),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
