# Sen12Landslides (Scientific Data 2025, CC BY 4.0): 128x128 patches at 10 m, 15 dates, read from
# the NetCDF files as distributed (lszoo.datasets.Sen12LandslidesDataset; docs/datasets.md).
# data_root holds data/data_harmonized/<sensor>/*.nc (Hugging Face paulhoehn/Sen12Landslides)
# and tasks/ (github.com/PaulH97/Sen12Landslides): the authors' splits.json and norm.json are
# used as they are. This base: task S12LS-LD, Sentinel-2 (10 bands) + DEM, all 15 dates.
_base_ = ['./meta_keys.py']
dataset_type = 'Sen12LandslidesDataset'
data_root = 'data/sen12landslides'
sen12 = dict(task='S12LS-LD', version='harmonized', sensors=['s2'], dem=True, dates='all')
in_channels = 11  # per date: 10 S2 bands + DEM
n_dates = 15
train_pipeline = [
    dict(type='LoadSen12Sample'),
    dict(type='Sen12Normalize'),
    # the authors' augmentation (configs/datamodule/sen12ls.yaml): flips and 90-degree turns
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='RandomRot90', prob=0.5),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
test_pipeline = [
    dict(type='LoadSen12Sample'),
    dict(type='Sen12Normalize'),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', pipeline=train_pipeline,
                 **sen12))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val', pipeline=test_pipeline,
                 **sen12))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', pipeline=test_pipeline,
                 **sen12))
# the authors' README reports landslide-class metrics (the 'standard' protocol), their paper
# macro averages over both classes (LandslideMetric's mIoU / mF1): both are printed
val_evaluator = dict(type='LandslideMetric')
test_evaluator = val_evaluator
