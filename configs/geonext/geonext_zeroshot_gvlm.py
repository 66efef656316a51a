# Zero-shot: the CAS-trained GeoNeXt tested on GVLM's test tiles without fine-tuning. Only the
# test data differ from geonext_cas_pretrain.py: GVLM post-event R, G, B tiles scaled by 255
# like the CAS tiles.
#   python tools/test.py configs/geonext/geonext_zeroshot_gvlm.py \
#       work_dirs/geonext_cas_pretrain/iter_109560.pth
_base_ = ['./geonext_cas_pretrain.py']
test_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='GVLMDataset', data_root='data/gvlm', tile_dir='tiles_256', split='test',
        split_seed=42, bands=['R', 'G', 'B'], stream_layout=dict(optical=[0, 1, 2]),
        pipeline=[
            dict(type='LoadLandslideSample'),
            dict(type='NormalizeBands', mode='scale', scale=255.0),
            dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
        ]))
test_evaluator = dict(type='LandslideMetric')
