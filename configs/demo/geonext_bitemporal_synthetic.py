# Bi-temporal GeoNeXt demo on the synthetic change world: the smallest ConvNeXt V2 (atto) shared
# over both dates, PSA-ASPP decoder. BCE + Tversky, threshold 0.5 and EMA momentum 0.01 instead
# of the paper's loss, 0.6225 and 0.9999, for a budget of CPU minutes (see
# configs/demo/geonext_synthetic.py for the measurements behind these changes).
#   python tools/train.py configs/demo/geonext_bitemporal_synthetic.py
_base_ = [
    '../_base_/models/geonext_bitemporal.py',
    '../_base_/datasets/gvlm_change_synthetic.py',
    '../_base_/default_runtime.py', '../_base_/schedules/change_demo.py'
]
model = dict(
    backbone=dict(encoder=dict(arch='atto')),
    decode_head=dict(threshold=0.5, loss_decode={{_base_.demo_loss}}))
# the full-resolution ASPP makes GeoNeXt costly on a CPU: batch 4 (as the GeoNeXt demo)
train_dataloader = dict(batch_size=4)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
custom_hooks = [
    dict(type='EMAHook', ema_type='ExponentialMovingAverage', momentum=0.01, priority=49),
]
