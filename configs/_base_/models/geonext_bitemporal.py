# GeoNeXt in bi-temporal form: its ConvNeXt V2 encoder runs on both dates with shared weights
# (SiameseEncoder), the dates are fused level by level ('both': pre, post, post - pre, projected
# back to the encoder's widths by TemporalFusionNeck) and GeoNeXt's PSA-ASPP decoder reads the
# fused pyramid. Loss, EMA and threshold as the GeoNeXt base.
_base_ = ['./geonext.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='SiameseEncoder',
        encoder=dict(type='ConvNeXtV2Encoder', arch='tiny', pretrained=False,
                     pretrained_tag='fcmae_ft_in22k_in1k', stem_adapt='repeat',
                     drop_path_rate=0.0),
        stream_channels=dict(post=[0, 1, 2], pre=[3, 4, 5])),
    neck=dict(type='TemporalFusionNeck', in_channels='auto', mode='both', project=True))
