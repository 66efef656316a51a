# Own-data demo (no download): a small U-Net (mmseg UNet, base width 16) trained on windows of
# the synthetic georeferenced scene_a + its inventory, tested on the whole of scene_b (a scene it
# never saw), against scene_b's polygons rasterised per window. Scenes EPSG:32645, DEM on a
# coarser offset grid, inventory GeoPackage in EPSG:4326. Run
#   python -m lszoo.datasets.synthetic_geo data/inventory_synthetic
#   python tools/train.py configs/demo/inventory_synthetic.py
# (the test metrics printed at the end are scene_b's; docs/own_data.md has the measured run).
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
            dict(type='BinaryTverskyLoss', alpha=0.3, beta=0.7, loss_weight=1.0),
        ]))
# split by scene: train on scene_a, test on scene_b; 128-pixel windows keep CPU steps cheap
scene_split = dict(split_mode='scenes', scene_splits=dict(train=['scene_a'], test=['scene_b']))
train_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(scene_split, window_size=128, num_windows=4000, positive_fraction=0.5))
test_dataloader = dict(num_workers=0, persistent_workers=False,
                       dataset=dict(scene_split, window_size=256))
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
