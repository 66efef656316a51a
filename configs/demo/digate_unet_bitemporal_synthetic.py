# Bi-temporal DiGATe-UNet demo on the synthetic change world: shared encoder over post and pre,
# change stream gated with the post image's stream (as on GVLM). Small random-init encoders
# (lcnet_050) as the DiGATe demo, since the paper's ImageNet weights cannot be downloaded here.
# With the world's DEM tiles (GVLMDataset's optional DEM band) DiGATe's topography stream comes
# back: bands + ['DEM'], stream_channels dem=[6, 6, 6], the base's dem_encoder and
# second_stream='dem' (tests/test_models/test_change_models.py trains that form).
#   python tools/train.py configs/demo/digate_unet_bitemporal_synthetic.py
_base_ = [
    '../_base_/models/digate_unet_bitemporal.py',
    '../_base_/datasets/gvlm_change_synthetic.py',
    '../_base_/default_runtime.py', '../_base_/schedules/change_demo.py'
]
model = dict(
    backbone=dict(encoder=dict(model_name={{_base_.demo_encoder}}),
                  stream_channels=dict(_delete_=True, post=[0, 1, 2], pre=[3, 4, 5]),
                  dem_encoder=None),
    neck=dict(necks=[
        dict(type='TemporalFusionNeck', mode='both', project=True, second_stream='post'),
        dict(type='GatedFusionNeck', fuse_levels=(2, 3)),
    ]),
    decode_head=dict(loss_decode={{_base_.demo_loss}}))
