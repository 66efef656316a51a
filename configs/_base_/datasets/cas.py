# CAS Landslide (Xu et al., Scientific Data 2024; CC BY-NC 4.0): 512x512 RGB tiles in 16
# sub-datasets (<subdataset>/img, <subdataset>/mask). No official split: 7:3 per sub-dataset
# with seed 42 (split files written to <data_root>/splits). Select sub-datasets with
# `subdatasets=[...]` in the dataset dicts. Inputs scaled to [0, 1] (GeoNeXt recipe).
# Point at your copy with: python tools/train.py CONFIG --data-root /path/to/cas
_base_ = ['./meta_keys.py']
dataset_type = 'CASLandslideDataset'
data_root = 'data/cas'
bands = ['R', 'G', 'B']
stream_layout = {'optical': [0, 1, 2]}
in_channels = 3
# Training crop (RandomCrop below; the whole 512 tile by default). lszoo's tools write an override
# into the pipeline: --cfg-options crop_size="(256,256)" (see docs/datasets.md).
crop_size = (512, 512)
subdatasets = None  # all sub-datasets found under data_root
train_pipeline = [
    dict(type='LoadLandslideSample'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='NormalizeBands', mode='scale', scale=255.0),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='RandomRot90', prob=0.5),
    dict(type='OpticalPhotometric', streams=['optical'], prob=0.5, brightness=0.1, contrast=0.1),
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
    dataset=dict(type=dataset_type, data_root=data_root, split='train', bands=bands,
                 stream_layout=stream_layout, subdatasets=subdatasets, split_seed=42,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val', bands=bands,
                 stream_layout=stream_layout, subdatasets=subdatasets, split_seed=42,
                 pipeline=test_pipeline))
test_dataloader = val_dataloader  # the 7:3 protocol has no separate test split
val_evaluator = dict(type='LandslideMetric')
test_evaluator = val_evaluator
