# Single-date baseline of the Sen12Landslides demos: a small U-Net (mmseg UNet, width 16) on the
# first post-event Sentinel-2 date + DEM of the synthetic copy, same loss, optimiser, batch and
# iterations as configs/demo/utae_sen12_synthetic.py:
#   python tools/train.py configs/demo/unet_sen12_synthetic_post.py
_base_ = [
    '../_base_/models/unet.py', '../_base_/datasets/sen12landslides_synthetic.py',
    '../_base_/schedules/adamw_sen12landslides.py', '../_base_/default_runtime.py'
]
dates = 'post'
in_channels = 11  # 10 S2 bands of one date + DEM
width = 16
_dates = dict(dataset=dict(dates=dates))
train_dataloader = _dates
val_dataloader = _dates
test_dataloader = _dates
model = dict(
    backbone=dict(in_channels=in_channels, base_channels=width),
    decode_head=dict(
        in_channels=width, channels=width, dropout_ratio=0.0,
        loss_decode=[
            dict(type='BinaryCrossEntropyLoss', pos_weight=5.0, loss_weight=0.5),
            dict(type='BinaryDiceLoss', loss_weight=0.5)]))
# 4x the authors' rate: 400 iterations instead of their ~15,000
optim_wrapper = dict(optimizer=dict(lr=4e-3))
train_cfg = dict(max_iters=400, val_interval=200)
default_hooks = dict(logger=dict(interval=25), checkpoint=dict(interval=200, max_keep_ckpts=1))
custom_hooks = [dict(type='IterationSeedHook')]
test_after_train = True
