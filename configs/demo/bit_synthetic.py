# BIT-style token transformer demo on the synthetic change world (same encoder and budget as the
# post-only baseline).
#   python tools/train.py configs/demo/bit_synthetic.py
_base_ = [
    '../_base_/models/bit.py', '../_base_/datasets/gvlm_change_synthetic.py',
    '../_base_/default_runtime.py', '../_base_/schedules/change_demo.py'
]
model = dict(
    backbone=dict(encoder=dict(model_name={{_base_.demo_encoder}})),
    decode_head=dict(loss_decode={{_base_.demo_loss}}))
