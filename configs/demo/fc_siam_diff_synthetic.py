# FC-Siam-diff demo on the synthetic change world (shared encoder over both dates, |post - pre|
# per level, U-Net decoder; encoder, decoder widths and budget as the post-only baseline).
#   python tools/train.py configs/demo/fc_siam_diff_synthetic.py
_base_ = [
    '../_base_/models/fc_siam_unet.py', '../_base_/datasets/gvlm_change_synthetic.py',
    '../_base_/default_runtime.py', '../_base_/schedules/change_demo.py'
]
model = dict(
    backbone=dict(encoder=dict(model_name={{_base_.demo_encoder}})),
    decode_head=dict(decoder_channels=(128, 64, 32, 16, 16),
                     loss_decode={{_base_.demo_loss}}))
