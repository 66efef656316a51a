# SegFormer (Xie et al., "SegFormer: Simple and Efficient Design for Semantic Segmentation with
# Transformers", NeurIPS 2021), MiT-B0 encoder with the all-MLP head, from mmsegmentation's
# `MixVisionTransformer` and `SegformerHead`. No pretrained weights; BN (not SyncBN) in the head
# so it runs on a CPU; one sigmoid output channel with an explicit threshold.
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
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='MixVisionTransformer',
        in_channels=3,
        embed_dims=32,
        num_stages=4,
        num_layers=[2, 2, 2, 2],
        num_heads=[1, 2, 5, 8],
        patch_sizes=[7, 3, 3, 3],
        sr_ratios=[8, 4, 2, 1],
        out_indices=(0, 1, 2, 3),
        mlp_ratio=4,
        qkv_bias=True,
        drop_rate=0.0,
        attn_drop_rate=0.0,
        drop_path_rate=0.1),
    decode_head=dict(
        type='SegformerHead',
        in_channels=[32, 64, 160, 256],
        in_index=[0, 1, 2, 3],
        channels=256,
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
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
