# Pre/post demo until lszoo's change-detection models take Sen12Landslides' 'pre' / 'post'
# streams: the same small U-Net fed with the median of the pre-event dates and of the post-event
# dates (cloud-masked by the SCL) stacked as channels, + DEM:
#   python tools/train.py configs/demo/unet_sen12_synthetic_prepost.py
_base_ = ['./unet_sen12_synthetic_post.py']
dates = 'composite'
in_channels = 21  # 10 pre + 10 post bands + DEM
_dates = dict(dataset=dict(dates=dates))
train_dataloader = _dates
val_dataloader = _dates
test_dataloader = _dates
model = dict(backbone=dict(in_channels=in_channels))
