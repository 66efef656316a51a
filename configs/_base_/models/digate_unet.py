# DiGATe-UNet ("DiGATe-UNet: Lightweight Dual-Stream Framework for Landslide Segmentation",
# reference code github.com/mishaown/DiGATe-UNet-LandSlide-Segmentation), the paper's architecture: two separate, frozen tf_efficientnet_b4 encoders (stream A optical RGB, stream B
# topography), early gated fusion at strides 8 and 16, two decoders (cross-attention up-block at
# the deepest level, attention-gated sub-pixel up-blocks above), late gated fusion at 1/4 and 1/2,
# deep supervision (0.6 at 1/4, 0.4 at 1/2), gate regulariser 1e-3, one sigmoid output channel.
# See docs/models/digate_unet.md. Experiment configs set the streams, e.g.
#   model = dict(backbone=dict(stream_channels=([0, 1, 2], [3, 3, 3])))
# To use another timm encoder (five levels at strides 2..32), set backbone.model_name alone: the
# neck's and head's widths follow the encoder (in_channels='auto', AutoWidthEncoderDecoder).
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
        # the weights timm's create_model('tf_efficientnet_b4', pretrained=True) resolves to
        # (timm >= 0.9: Noisy Student, JFT-300M + ImageNet-1k; Apache-2.0), as the reference
        # calls it; the paper configs set pretrained=True
        model_name='tf_efficientnet_b4.ns_jft_in1k',
        stream_channels=([0, 1, 2], [3, 3, 3]),
        shared=False,
        frozen=True,  # paper: requires_grad False, BatchNorm statistics still update
        pretrained=False,  # paper configs: True (timm download; offline: checkpoint=/path/file)
        checkpoint=None),
    # in_channels 'auto': tf_efficientnet_b4 widths 24, 32, 56, 160, 448 at strides 2..32
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
