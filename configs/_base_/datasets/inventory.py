# Your own GeoTIFF scenes + a landslide inventory (polygons) as a dataset of windows read on the
# fly (lszoo.datasets.InventoryDataset; docs/own_data.md). Defaults point at the synthetic pair
# written by `python -m lszoo.datasets.synthetic_geo data/inventory_synthetic`.
# Put your files in one folder as scenes/*.tif, inventory.gpkg, dem.tif and point every loader
# at it (or set scenes / inventory / dem: absolute paths, or relative to data_root):
#   python tools/train.py CONFIG --data-root DIR
# Scenes of another band set: also set `bands` (names from the GeoTIFF band descriptions, or
# band1, band2, ...; 'DEM' = the dem raster) and `in_channels` (docs/own_data.md).
dataset_type = 'InventoryDataset'
data_root = 'data/inventory_synthetic'
scenes = 'scenes'  # list, folder or glob of GeoTIFFs
inventory = 'inventory.gpkg'  # any OGR vector file (GeoPackage, Shapefile, GeoJSON), any CRS
dem = 'dem.tif'  # any grid / CRS, warped to each scene per window; None if you have none
bands = ['B2', 'B3', 'B4', 'B8', 'DEM']
stream_layout = {'optical': [0, 1, 2, 3], 'topo': [4]}
in_channels = 5
window_size = 256
# honest split: 5 km blocks (map units of the scenes) -> train/val/test, kept in a GeoJSON
# beside the inventory (<inventory>_blocks5120_seed42.geojson; open it in QGIS)
data = dict(type=dataset_type, data_root=data_root, scenes=scenes, inventory=inventory, dem=dem,
            bands=bands, stream_layout=stream_layout, window_size=window_size, split_mode='blocks',
            block_size=5120, split_fractions=(0.7, 0.15, 0.15), split_seed=42)
meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape', 'scale_factor',
             'flip', 'flip_direction', 'reduce_zero_label', 'band_names', 'stream_layout', 'crs',
             'transform', 'window')
# per-window min-max per band: unit-free (reflectance, digital numbers, metres alike), so it
# needs no statistics of your data; tools/infer_scene.py applies it to each tile
train_pipeline = [
    dict(type='LoadInventoryWindow'),
    dict(type='NormalizeBands', mode='minmax'),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='RandomRot90', prob=0.5),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='LoadInventoryWindow'),
    dict(type='NormalizeBands', mode='minmax'),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data, split='train', num_windows=2000, positive_fraction=0.5,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(data, split='val', pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(data, split='test', pipeline=test_pipeline))
val_evaluator = dict(type='LandslideMetric')
test_evaluator = val_evaluator
# for encoders pre-trained on Sentinel-2 reflectance (the *-ssl4eo_inventory configs): bands /
# 10000 as in SSL4EO-S12 pre-training instead of min-max (a DEM in metres / 10000 too: small
# values, harmless for a first layer that is initialised for it anyway)
s2_reflectance_train_pipeline = [
    dict(type='LoadInventoryWindow'),
    dict(type='NormalizeBands', mode='scale', scale=10000.0),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='RandomRot90', prob=0.5),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
s2_reflectance_test_pipeline = [
    dict(type='LoadInventoryWindow'),
    dict(type='NormalizeBands', mode='scale', scale=10000.0),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
