# U-Net baseline (Ronneberger et al., MICCAI 2015), built from mmsegmentation's own `UNet`
# backbone and `FCNHead`. One output channel with a sigmoid and an explicit probability
# threshold (see docs/architecture.md, "Binary output").
#
# The dataset base gives the channel count: an experiment config sets
#   model = dict(backbone=dict(in_channels={{_base_.in_channels}}))
# (tools/train.py checks that it matches the data before training).
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    # the dataset pipeline normalises (sample contract): only pad to 16 (4 down-samplings)
    mean=None,
    std=None,
    bgr_to_rgb=False,
    size_divisor=16,
    pad_val=0,
    seg_pad_val=255,
    test_cfg=dict(size_divisor=16))
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='UNet',
        in_channels=3,
        base_channels=64,
        num_stages=5,
        strides=(1, 1, 1, 1, 1),
        enc_num_convs=(2, 2, 2, 2, 2),
        dec_num_convs=(2, 2, 2, 2),
        downsamples=(True, True, True, True),
        enc_dilations=(1, 1, 1, 1, 1),
        dec_dilations=(1, 1, 1, 1),
        with_cp=False,
        conv_cfg=None,
        norm_cfg=norm_cfg,
        act_cfg=dict(type='ReLU'),
        upsample_cfg=dict(type='InterpConv'),
        norm_eval=False),
    decode_head=dict(
        type='FCNHead',
        in_channels=64,
        in_index=4,
        channels=64,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        norm_cfg=norm_cfg,
        align_corners=False,
        # classifier bias at a 3 % landslide prior (Lin et al., ICCV 2017), not 0: from p = 0.5 the
        # early background loss drove every 1x1 weight negative on Nepal (recipes.md, section 6)
        init_cfg=dict(type='Normal', std=0.01, bias_prob=0.03, override=dict(name='conv_seg')),
        # BCE + Dice: BCE alone learned no landslide on real Bijie (benchmarks/results/real.md)
        loss_decode=[
            dict(type='BinaryCrossEntropyLoss', loss_weight=1.0),
            dict(type='BinaryDiceLoss', loss_weight=1.0)]),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
