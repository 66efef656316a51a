# FC-Siam-conc on GVLM pre/post pairs: shared EfficientNet-B0 encoder, [pre, post] per level,
# U-Net decoder; docs/change_detection.md.
_base_ = ['./fc_siam_diff_gvlm.py']
model = dict(neck=dict(mode='concat'))
