# BIT-style change model (Chen, Qi, Shi, "Remote Sensing Image Change Detection with
# Transformers", TGRS 2021): a shared encoder over both dates (SiameseEncoder) and lszoo's
# TokenChangeHead (semantic tokens per date, a transformer over both dates' tokens, tokens
# projected back to pixels, |difference|, conv classifier). Why BIT rather than TinyCD:
# lszoo/models/decode_heads/token_change_head.py and docs/change_detection.md.
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
    pretrained=None,
    backbone=dict(
        type='SiameseEncoder',
        encoder=dict(type='TIMMBackbone', model_name='efficientnet_b0', features_only=True,
                     pretrained=False),
        stream_channels=dict(post=[0, 1, 2], pre=[3, 4, 5])),
    decode_head=dict(
        type='TokenChangeHead',
        in_channels='auto',
        in_index=(1, 2, 3),  # strides 4, 8, 16, resized to stride 4 and concatenated
        channels=32,
        num_tokens=4,
        depth=1,
        num_heads=4,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False,
        loss_decode=[
            dict(type='BinaryCrossEntropyLoss', loss_weight=1.0),
            dict(type='BinaryDiceLoss', loss_weight=1.0)]),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
