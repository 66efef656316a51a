# Zero-shot: the CAS-trained GeoNeXt tested on Bijie's test split without fine-tuning. Only the
# test data differ from geonext_cas_pretrain.py: Bijie's R, G, B at native size, scaled by 255
# exactly like the CAS tiles the model was trained on.
#   python tools/test.py configs/geonext/geonext_zeroshot_bijie.py \
#       work_dirs/geonext_cas_pretrain/iter_109560.pth
_base_ = ['./geonext_cas_pretrain.py']
test_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='BijieDataset', data_root='data/bijie', split='test', split_seed=42,
        bands=['R', 'G', 'B'], stream_layout=dict(optical=[0, 1, 2]),
        pipeline=[
            dict(type='LoadLandslideSample'),
            dict(type='NormalizeBands', mode='scale', scale=255.0),
            dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
        ]))
test_evaluator = dict(type='LandslideMetric')
