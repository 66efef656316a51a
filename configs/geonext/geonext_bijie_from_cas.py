# Step 2 of GeoNeXt's domain adaptation on Bijie: start from the CAS-trained model (all weights:
# encoder and decoder) and fine-tune on Bijie. Inputs are harmonised to the CAS model's R, G, B
# so that every weight transfers (geonext_bijie.py also uses the DEM).
#   python tools/train.py configs/geonext/geonext_bijie_from_cas.py \
#       --cfg-options load_from=work_dirs/geonext_cas_pretrain/iter_109560.pth
_base_ = ['./geonext_bijie.py']
rgb = dict(bands=['R', 'G', 'B'], stream_layout=dict(_delete_=True, optical=[0, 1, 2]))
model = dict(backbone=dict(in_channels=3))
train_dataloader = dict(dataset=rgb)
val_dataloader = dict(dataset=rgb)
test_dataloader = dict(dataset=rgb)
load_from = 'work_dirs/geonext_cas_pretrain/iter_109560.pth'
