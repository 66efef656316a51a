# lszoo's built-in synthetic landslide data (lszoo.datasets.synthetic): in memory, deterministic,
# no files and no download. Landslides are bare scars on steep slopes, so both the optical
# (R, G, B) and the topographic (DEM, slope) stream carry signal. Train, val and test differ
# only by seed.
_base_ = ['./meta_keys.py']
dataset_type = 'SyntheticLandslideDataset'
data_root = None  # nothing on disk
bands = ['R', 'G', 'B', 'DEM', 'slope']
stream_layout = {'optical': [0, 1, 2], 'topo': [3, 4]}
in_channels = 5
scene_size = 128
crop_size = (128, 128)  # train crop; a config may train on smaller crops of the scenes
# samples are already float32 H x W x C in [0, 1]-like ranges (RGB 0..1, DEM km, slope/90)
train_pipeline = [
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
test_pipeline = [dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}})]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, num_samples=256, size=scene_size, seed=1, bands=bands,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, num_samples=32, size=scene_size, seed=2, bands=bands,
                 pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, num_samples=64, size=scene_size, seed=3, bands=bands,
                 pipeline=test_pipeline))
val_evaluator = dict(type='LandslideMetric')
test_evaluator = val_evaluator
