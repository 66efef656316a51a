# Own-data demo (no download): a small U-Net (mmseg UNet, base width 16) trained on windows of
# the synthetic georeferenced scene_a + its inventory, tested on the whole of scene_b (a scene it
# never saw), against scene_b's polygons rasterised per window. Scenes EPSG:32645, DEM on a
# coarser offset grid, inventory GeoPackage in EPSG:4326. Run
#   python tools/train.py configs/demo/inventory_synthetic.py
# (the first run writes the scenes to data/inventory_synthetic; the test metrics printed at the
# end are scene_b's; docs/own_data.md has the measured runs).
_base_ = [
    '../_base_/models/unet.py',
    '../_base_/datasets/inventory.py',
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
            dict(type='BinaryTverskyLoss', alpha=0.5, beta=0.5, loss_weight=1.0),
        ]))
# Fixed per-band statistics (mean / std of scene_a, the training scene, read decimated to 256^2
# and rounded) instead of the base config's per-window min-max: a window then looks the same
# whatever its size, so 128-pixel training windows, 256-pixel test windows and the 512-pixel
# tiles of tools/infer_scene.py agree (min-max did worse: docs/own_data.md).
band_mean = dict(B2=420.0, B3=690.0, B4=510.0, B8=2700.0, DEM=4800.0)
band_std = dict(B2=210.0, B3=240.0, B4=350.0, B8=590.0, DEM=400.0)
_norm = dict(type='NormalizeBands', mode='meanstd', mean=band_mean, std=band_std)
train_pipeline = [
    dict(type='LoadInventoryWindow'), _norm,
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='RandomRot90', prob=0.5),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
test_pipeline = [
    dict(type='LoadInventoryWindow'), _norm,
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
# no download: the tools write lszoo's synthetic georeferenced pair (2048^2 scenes) when missing
synthetic_data = dict(name='inventory', size=512, seed=0)
# split by scene: train on scene_a, test on scene_b; 128-pixel windows keep CPU steps cheap
scene_split = dict(split_mode='scenes', scene_splits=dict(train=['scene_a'], test=['scene_b']))
train_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(scene_split, window_size=128, num_windows=4000, positive_fraction=0.3,
                 pipeline=train_pipeline))
test_dataloader = dict(num_workers=0, persistent_workers=False,
                       dataset=dict(scene_split, window_size=256, pipeline=test_pipeline))
val_dataloader = None
val_cfg = None
val_evaluator = None
optim_wrapper = dict(optimizer=dict(lr=2e-3, weight_decay=0.0))
train_cfg = dict(max_iters=400, val_interval=100000)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=400, max_keep_ckpts=1))
custom_hooks = [dict(type='IterationSeedHook')]
test_after_train = True
