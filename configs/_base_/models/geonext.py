# GeoNeXt (github ruribev/GeoNeXt): ConvNeXt V2 encoder + PSA-ASPP decoder, one sigmoid output,
# with the model's part of the paper's recipe (loss, EMA, threshold); configs/geonext/README.md
# and docs/models/geonext.md describe it. Experiment configs set backbone.in_channels from their
# dataset base; a smaller encoder needs backbone.arch alone (the head's widths follow).
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=None,  # the dataset pipeline scales the images (sample contract)
    std=None,
    bgr_to_rgb=False,
    size_divisor=32,  # the encoder's total stride
    pad_val=0,
    seg_pad_val=255,
    test_cfg=dict(size_divisor=32))
model = dict(
    type='AutoWidthEncoderDecoder',  # fills decode_head in_channels='auto' from the encoder
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='ConvNeXtV2Encoder',
        arch='tiny',
        in_channels=3,
        pretrained=False,  # paper configs: True (timm download, CC-BY-NC-4.0; or checkpoint=)
        pretrained_tag='fcmae_ft_in22k_in1k',
        checkpoint=None,
        stem_adapt='repeat',
        drop_path_rate=0.0),
    decode_head=dict(
        type='PSAASPPHead',
        in_channels='auto',  # tiny: 96, 192, 384, 768
        channels=32,
        aspp_channels=64,
        aspp_dilations=(1, 6, 12, 18),
        final_upsample=4,
        dropout_ratio=0.0,
        num_classes=2,
        out_channels=1,
        threshold=0.6225,  # the paper's logit cut-off 0.5 as a probability: sigmoid(0.5)
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=[  # the reference's 0.45 BCE + 0.45 boundary Dice + 0.10 focal Tversky
            dict(type='CrossEntropyLoss', use_sigmoid=True, avg_non_ignore=True,
                 loss_weight=0.45, loss_name='loss_bce'),
            dict(type='BoundaryDiceLoss', lam=0.1, gamma=1.0, smooth=1.0, per_image=True,
                 loss_weight=0.45),
            dict(type='FocalTverskyLoss', alpha=1.0, beta=0.7, gamma=2.0, smooth=1.0,
                 per_image=True, loss_weight=0.10),
        ]),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
# the reference's EMA (utils/ema.py): decay min(0.9999, (1 + k) / (10 + k)) at update k
custom_hooks = [
    dict(type='LSZooEMAHook', ema_type='WarmupExponentialMovingAverage', decay=0.9999,
         update_buffers=False, priority=49),
]
# the paper's threshold, not a calibrated one (tools/test.py --threshold still overrides)
use_calibrated_threshold = False
