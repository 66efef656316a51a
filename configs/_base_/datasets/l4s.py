# Landslide4Sense (Ghorbanzadeh et al., IEEE TGRS 2022): 128x128 patches, 14 bands in h5 files
# (Sentinel-2 B1-B12 without B8A, ALOS PALSAR slope and DEM) + derived NDVI on request.
# Zenodo layout TrainData/ValidData/TestData or the mirror images/annotations/{train,...}:
# both are detected. Point at your copy with: python tools/train.py CONFIG --data-root /path/to/l4s
_base_ = ['./meta_keys.py']
dataset_type = 'L4SDataset'
data_root = 'data/l4s'
bands = ['B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B9', 'B10', 'B11', 'B12', 'slope', 'DEM']
stream_layout = {'optical': [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 'topo': [12, 13]}
in_channels = 14
# Training crop (RandomCrop below; the whole 128 patch by default). lszoo's tools write an
# override into the pipeline: --cfg-options crop_size="(64,64)" (see docs/datasets.md).
crop_size = (128, 128)
# Per-band mean / std of the official L4S baseline (by band name, so changing `bands` keeps them
# right); NDVI is already in [-1, 1].
l4s_mean = dict(B1=-0.4914, B2=-0.3074, B3=-0.1277, B4=-0.0625, B5=0.0439, B6=0.0803, B7=0.0644,
                B8=0.0802, B9=0.3000, B10=0.4082, B11=0.0823, B12=0.0516, slope=0.3338,
                DEM=0.7819, NDVI=0.0)
l4s_std = dict(B1=0.9325, B2=0.8775, B3=0.8860, B4=0.8869, B5=0.8857, B6=0.8418, B7=0.8354,
               B8=0.8491, B9=0.9061, B10=1.6072, B11=0.8848, B12=0.9232, slope=0.9018,
               DEM=1.2913, NDVI=1.0)
train_pipeline = [
    dict(type='LoadLandslideSample'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='NormalizeBands', mode='meanstd', mean=l4s_mean, std=l4s_std),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='RandomRot90', prob=0.5),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
test_pipeline = [
    dict(type='LoadLandslideSample'),
    dict(type='NormalizeBands', mode='meanstd', mean=l4s_mean, std=l4s_std),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', bands=bands,
                 stream_layout=stream_layout, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val', bands=bands,
                 stream_layout=stream_layout, pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', bands=bands,
                 stream_layout=stream_layout, pipeline=test_pipeline))
val_evaluator = dict(type='LandslideMetric')
test_evaluator = val_evaluator
