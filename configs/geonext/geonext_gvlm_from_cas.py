# Step 2 of GeoNeXt's domain adaptation on GVLM (RGB like CAS): start from the CAS-trained model
# and fine-tune.
#   python tools/train.py configs/geonext/geonext_gvlm_from_cas.py \
#       --cfg-options load_from=work_dirs/geonext_cas_pretrain/iter_109560.pth
_base_ = ['./geonext_gvlm.py']
model = dict(backbone=dict(pretrained=False))  # every weight comes from the CAS model
load_from = 'work_dirs/geonext_cas_pretrain/iter_109560.pth'
