# GeoNeXt: ConvNeXt V2 encoder + PSA-ASPP decoder (github ruribev/GeoNeXt; ConvNeXt V2: Woo et
# al., CVPR 2023; PSA: EPSANet, ACCV 2022; ASPP: DeepLabv3). GeoNeXt-tiny: 32.21 M parameters
# (encoder 27.86 M, decoder 4.34 M). One output channel (sigmoid).
#
# The paper's recipe parts that belong to the model live here too:
# - loss 0.45 BCE + 0.45 boundary-weighted Dice + 0.10 focal Tversky (the reference's settings);
# - EMA of the weights with the reference's warm-up: update k uses decay min(0.9999,
#   (1 + k) / (10 + k)) (lszoo's WarmupExponentialMovingAverage in mmengine's EMAHook);
#   validation, testing and the saved `state_dict` use the EMA weights, `ema_state_dict` keeps
#   the raw ones and `--resume` restores both (the warm-up counter too);
# - threshold: the paper thresholds logits at 0.5, i.e. probability sigmoid(0.5) = 0.6225.
#
# An experiment config sets the input channels from its dataset base:
#   model = dict(backbone=dict(in_channels={{_base_.in_channels}}))
# and a smaller encoder with backbone arch alone (the head's widths follow the encoder), e.g.
#   model = dict(backbone=dict(arch='atto'))
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    # images arrive scaled by the dataset pipeline (sample contract); pad to a multiple of 32
    # (the encoder's total stride) and stack
    mean=None,
    std=None,
    bgr_to_rgb=False,
    size_divisor=32,
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
        # The paper configs set pretrained=True: timm's convnextv2_<arch>.fcmae_ft_in22k_in1k
        # (ConvNeXt V2 FCMAE pre-training, ImageNet-22k then 1k fine-tuning; CC-BY-NC-4.0),
        # downloaded by timm; offline give the same weights as checkpoint='/path/file'.
        pretrained=False,
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
        threshold=0.6225,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=[
            dict(type='CrossEntropyLoss', use_sigmoid=True, avg_non_ignore=True,
                 loss_weight=0.45, loss_name='loss_bce'),
            dict(type='BoundaryDiceLoss', lam=0.1, gamma=1.0, smooth=1.0, per_image=True,
                 loss_weight=0.45),
            dict(type='FocalTverskyLoss', alpha=1.0, beta=0.7, gamma=2.0, smooth=1.0,
                 per_image=True, loss_weight=0.10),
        ]),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
# EMA of the weights as GeoNeXt's reference (utils/ema.py): decay 0.9999 with warm-up
# min(0.9999, (1 + k) / (10 + k)); the average starts from the weights training starts from
# (pretrained or loaded: LSZooEMAHook). A config that changes it replaces the whole list.
custom_hooks = [
    dict(type='LSZooEMAHook', ema_type='WarmupExponentialMovingAverage', decay=0.9999,
         update_buffers=False, priority=49),
]
# the paper's threshold, not one calibrated into a checkpoint by tools/test.py --calibrate
# (set True to use a calibrated one; --threshold always overrides)
use_calibrated_threshold = False
