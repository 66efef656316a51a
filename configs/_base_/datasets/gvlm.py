# GVLM (Zhang et al., ISPRS J. 2023; non-commercial use): post-event RGB tiles with the change
# mask as landslide mask. Cut the 17 site scenes first (streaming):
#   python tools/dataset_converters/gvlm.py data/gvlm --size 256 --overlap 0
# Split 60/20/20 of tiles with seed 42 (split files written to <data_root>/splits).
# For the pre-event image as a second stream use configs/_base_/datasets/gvlm_prepost.py.
# Point at your copy with: python tools/train.py CONFIG --data-root /path/to/gvlm
_base_ = ['./meta_keys.py']
dataset_type = 'GVLMDataset'
data_root = 'data/gvlm'
tile_dir = 'tiles_256'
bands = ['R', 'G', 'B']
stream_layout = {'optical': [0, 1, 2]}
in_channels = 3
# Training crop (RandomCrop below; the whole tile by default). lszoo's tools write an override
# into the pipeline: --cfg-options crop_size="(128,128)" (see docs/datasets.md).
crop_size = (256, 256)
train_pipeline = [
    dict(type='LoadLandslideSample'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='NormalizeBands', mode='scale', scale=255.0),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='RandomRot90', prob=0.5),
    dict(type='OpticalPhotometric', streams=['optical', 'pre'], prob=0.5, brightness=0.1,
         contrast=0.1),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
test_pipeline = [
    dict(type='LoadLandslideSample'),
    dict(type='NormalizeBands', mode='scale', scale=255.0),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, tile_dir=tile_dir, split='train',
                 bands=bands, stream_layout=stream_layout, split_seed=42,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, tile_dir=tile_dir, split='val',
                 bands=bands, stream_layout=stream_layout, split_seed=42,
                 pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, tile_dir=tile_dir, split='test',
                 bands=bands, stream_layout=stream_layout, split_seed=42,
                 pipeline=test_pipeline))
val_evaluator = dict(type='LandslideMetric')
test_evaluator = val_evaluator
