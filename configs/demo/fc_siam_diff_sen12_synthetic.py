# The change-detection path on Sen12Landslides: FC-Siam-diff (one encoder shared by the pre-event
# and post-event median composites, |post - pre| per level, U-Net decoder) on the synthetic copy,
# the DEM appended to both dates; data, loss, optimiser, batch and iterations as the other
# Sen12Landslides demos:
#   python tools/train.py configs/demo/fc_siam_diff_sen12_synthetic.py
_base_ = [
    '../_base_/models/fc_siam_unet.py', '../_base_/datasets/sen12landslides_synthetic.py',
    '../_base_/schedules/adamw_sen12landslides.py', '../_base_/default_runtime.py'
]
_dates = dict(dataset=dict(dates='composite'))  # channels: 10 pre, 10 post S2 bands, DEM
train_dataloader = _dates
val_dataloader = _dates
test_dataloader = _dates
model = dict(
    backbone=dict(
        encoder=dict(model_name='efficientnet_b0'),
        stream_channels=dict(pre=list(range(10)), post=list(range(10, 20)), dem=[20])),
    decode_head=dict(
        decoder_channels=(64, 32, 16, 16, 16),
        loss_decode=[
            dict(type='BinaryCrossEntropyLoss', pos_weight=5.0, loss_weight=0.5),
            dict(type='BinaryDiceLoss', loss_weight=0.5)]))
# 4x the authors' rate: 400 iterations instead of their ~15,000 (as the other Sen12 demos)
optim_wrapper = dict(optimizer=dict(lr=4e-3))
train_cfg = dict(max_iters=400, val_interval=200)
default_hooks = dict(logger=dict(interval=25), checkpoint=dict(interval=200, max_keep_ckpts=1))
custom_hooks = [dict(type='IterationSeedHook')]
test_after_train = True
