# Bi-temporal DiGATe-UNet on GVLM pre/post pairs. GVLM has no DEM, so the second stream of the
# gated fusions and of decoder B is the post-event image's features (the change stream is
# decoder A's); with a DEM band the base keeps DiGATe's topography stream. Recipe as
# digate_unet_gvlm.py (Adam 3e-4 / 1e-4, 256x256 tiles, batch 32, 6000 iterations).
_base_ = [
    '../_base_/models/digate_unet_bitemporal.py',
    '../_base_/datasets/gvlm_change.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/adam_iter.py',
]
model = dict(
    backbone=dict(stream_channels=dict(_delete_=True, post=[0, 1, 2], pre=[3, 4, 5]),
                  dem_encoder=None),
    neck=dict(necks=[
        dict(type='TemporalFusionNeck', mode='both', project=True, second_stream='post'),
        dict(type='GatedFusionNeck', fuse_levels=(2, 3)),
    ]))
train_dataloader = dict(batch_size=32)
train_cfg = dict(max_iters=6000, val_interval=600)
default_hooks = dict(checkpoint=dict(interval=600))
