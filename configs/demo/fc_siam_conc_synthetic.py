# FC-Siam-conc demo on the synthetic change world ([pre, post] per level instead of |post - pre|).
#   python tools/train.py configs/demo/fc_siam_conc_synthetic.py
_base_ = ['./fc_siam_diff_synthetic.py']
model = dict(neck=dict(mode='concat'))
