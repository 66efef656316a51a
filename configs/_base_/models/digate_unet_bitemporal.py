# DiGATe-UNet in bi-temporal form: the optical encoder runs on both dates with shared weights
# (SiameseEncoder), the dates are fused level by level ('both': pre, post, post - pre, projected
# back to the encoder's widths) into the change stream, and DiGATe's topography stream is kept:
# the DEM (repeated to three channels) through its own encoder. Then DiGATe's early gated fusion
# (change + DEM, strides 8 and 16), its two decoders, late fusion and deep supervision unchanged.
# The paper's frozen ImageNet encoders need weights: these encoders start random and are trained
# (model.backbone.encoder.pretrained=True downloads ImageNet weights through timm at build).
_base_ = ['./digate_unet.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='SiameseEncoder',
        encoder=dict(type='TIMMBackbone', model_name='tf_efficientnet_b4', features_only=True,
                     pretrained=False),
        stream_channels=dict(post=[0, 1, 2], pre=[3, 4, 5], dem=[6, 6, 6]),
        dem_encoder=dict(type='TIMMBackbone', model_name='tf_efficientnet_b4',
                         features_only=True, pretrained=False)),
    neck=dict(
        _delete_=True,
        type='NeckSequence',
        in_channels='auto',
        necks=[
            dict(type='TemporalFusionNeck', mode='both', project=True, second_stream='dem'),
            dict(type='GatedFusionNeck', fuse_levels=(2, 3)),
        ]))
