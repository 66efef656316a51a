# CPU demo: a small U-Net (mmseg's UNet, base width 16) on lszoo's synthetic landslides
# (R, G, B, DEM, slope). No data, no network:
#   python tools/train.py configs/demo/unet_synthetic.py
# trains, validates, tests, prints the test metrics and writes overlay PNGs
# (image | truth | prediction | errors) to work_dirs/unet_synthetic/overlays/.
_base_ = [
    '../_base_/models/unet.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/adam_iter.py',
    '../_base_/default_runtime.py',
]
width = 16
model = dict(
    backbone=dict(in_channels={{_base_.in_channels}}, base_channels=width),
    decode_head=dict(
        in_channels=width,
        channels=width,
        dropout_ratio=0.0,
        loss_decode=[
            dict(type='CrossEntropyLoss', use_sigmoid=True, avg_non_ignore=True,
                 loss_weight=1.0),
            # Tversky finds the rare landslide pixels sooner than Dice (docs/getting_started.md)
            dict(type='BinaryTverskyLoss', alpha=0.3, beta=0.7, loss_weight=1.0),
        ]))
# train on random 64x64 crops of the 128x128 scenes (4x cheaper); validate and test on whole scenes
crop_size = (64, 64)
train_pipeline = [
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=2e-3, weight_decay=0.0))
train_cfg = dict(max_iters=300, val_interval=100)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=100, max_keep_ckpts=1))
custom_hooks = [
    dict(type='IterationSeedHook'),  # augmentation draws depend on the iteration: exact resume
    dict(type='LandslideOverlayHook', out_dir='overlays', max_images=6),
]
test_after_train = True
