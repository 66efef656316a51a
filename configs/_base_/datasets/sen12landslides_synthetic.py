# lszoo's synthetic Sen12Landslides copy (lszoo/datasets/synthetic_sen12.py): the distributed
# NetCDF layout and json files, 64x64 patches, written to data/sen12_synthetic on first use
# (data_root None: the dataset reads the synthetic copy; --data-root replaces it). S2 + DEM.
_base_ = ['./sen12landslides.py']
data_root = None
_demo = dict(data_root=data_root,
             synthetic=dict(root='data/sen12_synthetic', patches=96, size=64, seed=0))
_loader = dict(num_workers=1, persistent_workers=True)
train_dataloader = dict(batch_size=4, dataset=_demo, **_loader)
val_dataloader = dict(dataset=_demo, **_loader)
test_dataloader = dict(dataset=_demo, **_loader)
