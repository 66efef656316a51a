# The post-only baseline of the bi-temporal demos: the timm U-Net on the POST-event image alone
# of the synthetic change world (what a single-date landslide model sees). Old scars and bare
# soil look like new scars in that image; benchmarks/change.py measures what that costs.
#   python tools/train.py configs/demo/change_post_only_unet_synthetic.py
_base_ = [
    '../_base_/models/timm_unet.py', '../_base_/datasets/gvlm_change_synthetic.py',
    '../_base_/default_runtime.py', '../_base_/schedules/change_demo.py'
]
bands = ['R', 'G', 'B']
stream_layout = dict(_delete_=True, post=[0, 1, 2])
model = dict(
    backbone=dict(model_name={{_base_.demo_encoder}}, in_channels=3),
    decode_head=dict(decoder_channels=(128, 64, 32, 16, 16),
                     loss_decode={{_base_.demo_loss}}))
_load = dict(type='LoadBitemporalSample', date_streams=['post'])
train_pipeline = [
    _load,
    dict(type='RandomCrop', crop_size=(64, 64)),
    dict(type='NormalizeBands', mode='scale', scale=255.0),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='RandomRot90', prob=0.5),
    dict(type='DatewisePhotometric', streams=['post'], prob=0.5, brightness=0.1,
         contrast=0.1, band_gain=0.05),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
test_pipeline = [
    _load,
    dict(type='NormalizeBands', mode='scale', scale=255.0),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
_ds = dict(bands=bands, stream_layout=stream_layout)
train_dataloader = dict(dataset=dict(_ds, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(_ds, pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(_ds, pipeline=test_pipeline))
