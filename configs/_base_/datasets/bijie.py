# Bijie (Ji et al., Landslides 2020): RGB PNG + DEM PNG, landslide/ and non-landslide/ folders.
# DiGATe-UNet recipe: 256x256 (bilinear image, nearest mask), per-image per-band min-max to
# [0, 1], flips + gaussian noise + salt-and-pepper on the optical stream; split 70/20/10 per
# class with seed 42 (split files written to <data_root>/splits on first use).
# Point at your copy with: python tools/train.py CONFIG --data-root /path/to/bijie
_base_ = ['./meta_keys.py']
dataset_type = 'BijieDataset'
data_root = 'data/bijie'
bands = ['R', 'G', 'B', 'DEM']
stream_layout = {'optical': [0, 1, 2], 'topo': [3]}
in_channels = 4
img_scale = (256, 256)  # every image is resized to this (DiGATe recipe)
# Training crop of the resized image (RandomCrop below; the whole image by default). lszoo's
# tools write an override into the pipeline: --cfg-options crop_size="(128,128)".
crop_size = (256, 256)
train_pipeline = [
    dict(type='LoadLandslideSample'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='NormalizeBands', mode='minmax'),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='OpticalPhotometric', streams=['optical'], prob=0.5, brightness=0.0, contrast=0.0,
         noise_std=0.02, salt_pepper=0.01),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
# The mask is loaded after the resize, at its original size: predictions are resized back to
# the image's original size and scored there (mmseg's convention).
test_pipeline = [
    dict(type='LoadLandslideSample', with_seg=False),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='LoadLandslideAnnotations'),
    dict(type='NormalizeBands', mode='minmax'),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', bands=bands,
                 stream_layout=stream_layout, split_seed=42, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val', bands=bands,
                 stream_layout=stream_layout, split_seed=42, pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', bands=bands,
                 stream_layout=stream_layout, split_seed=42, pipeline=test_pipeline))
val_evaluator = dict(type='LandslideMetric')
test_evaluator = val_evaluator
