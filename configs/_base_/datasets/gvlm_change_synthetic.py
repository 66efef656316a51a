# lszoo's synthetic bi-temporal world (lszoo/datasets/synthetic_change.py) in GVLM's layout: new
# scars (the mask) plus old scars and bare soil present in both dates, a seasonal colour shift and
# a misregistered pre image. Written to data_root on first use (12 sites of 384 px cut into
# 128-px tiles; train sites 0-8, validation site 9, test sites 10-11: held-out scenes) by the
# tools (`synthetic_data`).
_base_ = ['./gvlm_change.py']
data_root = 'data/gvlm_change_synthetic'
synthetic_data = dict(name='gvlm_change', num_images=12, size=384, seed=0, tile=128)
crop_size = (64, 64)  # 4x cheaper steps on a CPU; validation and test read whole tiles
_load = dict(type='LoadBitemporalSample', date_streams=['post', 'pre'])
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
_ds = dict(type='GVLMDataset', data_root=data_root, tile_dir='tiles_128')
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                        dataset=dict(_ds, pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(_ds, pipeline=test_pipeline))
test_dataloader = dict(num_workers=0, persistent_workers=False,
                       dataset=dict(_ds, pipeline=test_pipeline))
