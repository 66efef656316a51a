# timm-encoder U-Net with ConvNeXt V2 atto (Woo et al., "ConvNeXt V2", CVPR 2023) as the
# encoder: four maps at strides 4..32 (widths 40, 80, 160, 320); three skip stages and two more
# x2 stages back to full resolution.
_base_ = ['./timm_unet.py']
model = dict(
    backbone=dict(model_name='convnextv2_atto'),
    decode_head=dict(decoder_channels=(160, 80, 40, 32, 16)))  # in_channels 'auto': 40..320
