# lszoo's synthetic Sen12Landslides copy (lszoo/datasets/synthetic_sen12.py): the distributed
# NetCDF layout and json files, 64x64 patches, S2 + DEM; the tools write it to data_root when it
# is missing (`synthetic_data`; --data-root points elsewhere instead).
_base_ = ['./sen12landslides.py']
data_root = 'data/sen12_synthetic'
synthetic_data = dict(name='sen12', num_images=96, size=64, seed=0)
_demo = dict(data_root=data_root)
_loader = dict(num_workers=1, persistent_workers=True)
train_dataloader = dict(batch_size=4, dataset=_demo, **_loader)
val_dataloader = dict(dataset=_demo, **_loader)
test_dataloader = dict(dataset=_demo, **_loader)
