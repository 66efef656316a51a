# FC-Siam-diff on Sen12Landslides S12LS-LD, Sentinel-2: the median of the cloud-masked pre-event
# dates and of the post-event dates as the two dates of a shared EfficientNet-B0 encoder, the DEM
# appended to both; schedule and loss of the U-TAE configs (configs/utae/README.md).
_base_ = [
    '../_base_/models/fc_siam_unet.py', '../_base_/datasets/sen12landslides.py',
    '../_base_/schedules/adamw_sen12landslides.py', '../_base_/default_runtime.py'
]
_dates = dict(dataset=dict(dates='composite'))  # channels: 10 pre, 10 post S2 bands, DEM
train_dataloader = _dates
val_dataloader = _dates
test_dataloader = _dates
model = dict(
    backbone=dict(stream_channels=dict(pre=list(range(10)), post=list(range(10, 20)),
                                       dem=[20])),
    decode_head=dict(loss_decode=[
        dict(type='BinaryCrossEntropyLoss', pos_weight=5.0, loss_weight=0.5),
        dict(type='BinaryDiceLoss', loss_weight=0.5)]))
