# Step 2 of GeoNeXt's domain adaptation on Landslide4Sense: start from the CAS-trained model and
# fine-tune. Inputs are harmonised to R, G, B = Sentinel-2 B4, B3, B2 (per-image min-max, as in
# geonext_l4s.py) so that every weight transfers.
#   python tools/train.py configs/geonext/geonext_l4s_from_cas.py \
#       --cfg-options load_from=work_dirs/geonext_cas_pretrain/iter_109560.pth
_base_ = ['./geonext_l4s.py']
rgb = dict(bands=['B4', 'B3', 'B2'], stream_layout=dict(_delete_=True, optical=[0, 1, 2]))
model = dict(backbone=dict(in_channels=3, pretrained=False))  # weights: the CAS model
train_dataloader = dict(dataset=rgb)
val_dataloader = dict(dataset=rgb)
test_dataloader = dict(dataset=rgb)
load_from = 'work_dirs/geonext_cas_pretrain/iter_109560.pth'
