# GVLM as the change benchmark it is: the post-event (im2) and pre-event (im1) RGB tiles as two
# date streams, 'post' (channels 0-2) and 'pre' (3-5), with the change mask. Bi-temporal models
# (configs/early_fusion_unet, fc_siam, bit, *_bitemporal_*) read it; docs/change_detection.md.
# Geometric transforms act on the stacked image, so both dates and the mask move together;
# photometric ones are drawn per date; the pre image is shifted a little (misregistration).
_base_ = ['./gvlm.py']
bands = ['R', 'G', 'B', 'pre_R', 'pre_G', 'pre_B']
stream_layout = dict(_delete_=True, post=[0, 1, 2], pre=[3, 4, 5])  # replaces 'optical'
in_channels = 6
crop_size = (256, 256)
# GVLM scenes have black (0, 0, 0) unimaged borders: a pixel black in either date is ignored
_load = dict(type='LoadBitemporalSample', date_streams=['post', 'pre'], nodata_value=0)
train_pipeline = [
    _load,
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='NormalizeBands', mode='scale', scale=255.0),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='RandomRot90', prob=0.5),
    dict(type='DatewisePhotometric', streams=['post', 'pre'], prob=0.5, brightness=0.1,
         contrast=0.1, band_gain=0.05),
    dict(type='RandomMisregistration', stream='pre', max_shift=1.5, prob=0.5),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
test_pipeline = [
    _load,
    dict(type='NormalizeBands', mode='scale', scale=255.0),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
train_dataloader = dict(dataset=dict(bands=bands, stream_layout=stream_layout,
                                     pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(bands=bands, stream_layout=stream_layout,
                                   pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(bands=bands, stream_layout=stream_layout,
                                    pipeline=test_pipeline))
