# Step 1 of GeoNeXt's domain adaptation: train the whole model on CAS Landslide (RGB).
#   python tools/train.py configs/geonext/geonext_cas_pretrain.py
# writes work_dirs/geonext_cas_pretrain/iter_109560.pth (the last iteration), which the
# fine-tuning configs geonext_{bijie,l4s,gvlm}_from_cas.py load and the zero-shot configs
# geonext_zeroshot_{bijie,l4s,gvlm}.py test. See docs/domain_adaptation.md.
_base_ = ['./geonext_cas.py']
