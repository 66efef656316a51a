# Zero-shot: the CAS-trained GeoNeXt tested on Landslide4Sense's test split without fine-tuning.
# Only the test data differ from geonext_cas_pretrain.py: L4S is harmonised to RGB (Sentinel-2
# B4, B3, B2) and, not being 8-bit, scaled to [0, 1] per image and band (min-max).
#   python tools/test.py configs/geonext/geonext_zeroshot_l4s.py \
#       work_dirs/geonext_cas_pretrain/iter_109560.pth
# The test loader (batch, workers, sampler) and evaluator are geonext_zeroshot_bijie.py's; only
# the dataset differs.
_base_ = ['./geonext_zeroshot_bijie.py']
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='L4SDataset', data_root='data/l4s', split='test',
        bands=['B4', 'B3', 'B2'], stream_layout=dict(optical=[0, 1, 2]),
        pipeline=[
            dict(type='LoadLandslideSample'),
            dict(type='NormalizeBands', mode='minmax'),
            dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
        ]))
