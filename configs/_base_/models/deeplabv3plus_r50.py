# DeepLabV3+ (Chen et al., "Encoder-Decoder with Atrous Separable Convolution for Semantic Image
# Segmentation", ECCV 2018) with a ResNet-50 (v1c stem) encoder at output stride 8, built from
# mmsegmentation's `ResNetV1c`, `DepthwiseSeparableASPPHead` and an FCN auxiliary head.
# Plain BN (not SyncBN) so it runs on a CPU; no pretrained weights (pretrained=None).
# One output channel with a sigmoid and an explicit probability threshold
# (docs/architecture.md, "Binary output"). Experiment configs set
#   model = dict(backbone=dict(in_channels={{_base_.in_channels}}))
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    # Images arrive normalised by the dataset pipeline: only pad and stack.
    mean=None,
    std=None,
    bgr_to_rgb=False,
    size_divisor=32,
    pad_val=0,
    seg_pad_val=255,
    test_cfg=dict(size_divisor=32))
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='ResNetV1c',
        depth=50,
        in_channels=3,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='DepthwiseSeparableASPPHead',
        in_channels=2048,
        in_index=3,
        channels=512,
        dilations=(1, 12, 24, 36),
        c1_in_channels=256,
        c1_channels=48,
        dropout_ratio=0.1,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        norm_cfg=norm_cfg,
        align_corners=False,
        # BCE + Dice: BCE alone learned no landslide on real Bijie (benchmarks/results/real.md)
        loss_decode=[
            dict(type='BinaryCrossEntropyLoss', loss_weight=1.0),
            dict(type='BinaryDiceLoss', loss_weight=1.0)]),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=1024,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=True, avg_non_ignore=True, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
