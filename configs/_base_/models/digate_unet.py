# DiGATe-UNet as its paper builds it (reference code github.com/mishaown/
# DiGATe-UNet-LandSlide-Segmentation): two frozen tf_efficientnet_b4 encoders (RGB / topography),
# gated fusion, two decoders, deep supervision; configs/digate_unet/README.md and
# docs/models/digate_unet.md describe it. Experiment configs set backbone.stream_channels; another
# timm encoder needs backbone.model_name alone (the neck's and head's widths follow).
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=None,  # the dataset pipeline normalises (lszoo sample contract)
    std=None,
    bgr_to_rgb=False,
    size_divisor=32,  # five stride-2 levels: inputs are padded to a multiple of 32
    pad_val=0,
    seg_pad_val=255,
    test_cfg=dict(size_divisor=32))
model = dict(
    type='AutoWidthEncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='DualStreamTimmEncoder',
        # what the reference's timm create_model('tf_efficientnet_b4', pretrained=True) loads
        model_name='tf_efficientnet_b4.ns_jft_in1k',
        stream_channels=([0, 1, 2], [3, 3, 3]),
        shared=False,
        frozen=True,  # paper: requires_grad False, BatchNorm statistics still update
        pretrained=False,  # paper configs: True (timm download; offline: checkpoint=/path/file)
        checkpoint=None),
    neck=dict(type='GatedFusionNeck', in_channels='auto', fuse_levels=(2, 3)),
    decode_head=dict(
        type='DiGATeHead',
        in_channels='auto',
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        aux_weights=(0.6, 0.4),
        gate_reg_weight=1e-3,
        num_heads=2,
        mlp_ratio=2.0,
        norm_cfg=dict(type='GN', num_groups=1),
        align_corners=False,
        # smp's TverskyLoss as the reference trains: 0 on a batch without landslide pixels
        loss_decode=dict(type='BinaryTverskyLoss', alpha=0.3, beta=0.7, ignore_empty=True,
                         loss_name='loss_tversky')),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
# the paper's threshold, not a calibrated one (tools/test.py --threshold still overrides)
use_calibrated_threshold = False
