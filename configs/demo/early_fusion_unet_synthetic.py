# Early-fusion U-Net demo on the synthetic change world: post and pre RGB stacked as six
# channels of the timm U-Net (same encoder, decoder and budget as the post-only baseline).
#   python tools/train.py configs/demo/early_fusion_unet_synthetic.py
_base_ = [
    '../_base_/models/timm_unet.py', '../_base_/datasets/gvlm_change_synthetic.py',
    '../_base_/default_runtime.py', '../_base_/schedules/change_demo.py'
]
model = dict(
    backbone=dict(model_name={{_base_.demo_encoder}}, in_channels={{_base_.in_channels}}),
    decode_head=dict(decoder_channels=(128, 64, 32, 16, 16),
                     loss_decode={{_base_.demo_loss}}))
