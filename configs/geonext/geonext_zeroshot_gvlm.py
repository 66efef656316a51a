# Zero-shot: the CAS-trained GeoNeXt tested on GVLM's test tiles without fine-tuning. Only the
# test data differ from geonext_cas_pretrain.py: GVLM post-event R, G, B tiles scaled by 255
# like the CAS tiles.
#   python tools/test.py configs/geonext/geonext_zeroshot_gvlm.py \
#       work_dirs/geonext_cas_pretrain/iter_109560.pth
# The test loader (batch, workers, sampler) and evaluator are geonext_zeroshot_bijie.py's; only
# the dataset differs.
_base_ = ['./geonext_zeroshot_bijie.py']
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='GVLMDataset', data_root='data/gvlm', tile_dir='tiles_256', split='test',
        split_seed=42, bands=['R', 'G', 'B'], stream_layout=dict(optical=[0, 1, 2]),
        pipeline=[
            dict(type='LoadLandslideSample'),
            dict(type='NormalizeBands', mode='scale', scale=255.0),
            dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
        ]))
