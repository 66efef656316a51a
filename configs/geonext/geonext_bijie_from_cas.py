# Step 2 of GeoNeXt's domain adaptation on Bijie, the paper's Bijie run: start from the
# CAS-trained model (all weights: encoder and decoder; train configs/geonext/geonext_cas_pretrain.py
# first) and fine-tune on Bijie R, G, B with the recipe of geonext_bijie.py. No ImageNet download:
# every weight comes from the CAS model.
#   python tools/train.py configs/geonext/geonext_bijie_from_cas.py \
#       --cfg-options load_from=work_dirs/geonext_cas_pretrain/iter_109560.pth
# (the reference loads its best-validation CAS checkpoint: point load_from at
# work_dirs/geonext_cas_pretrain/best_mIoU_iter_*.pth for that).
_base_ = ['./geonext_bijie.py']
model = dict(backbone=dict(pretrained=False))
load_from = 'work_dirs/geonext_cas_pretrain/iter_109560.pth'
