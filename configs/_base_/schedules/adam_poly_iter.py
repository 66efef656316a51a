# Iteration-based schedule with Adam and a polynomial learning-rate decay (power 0.9, mmseg's
# usual decay) after a short linear warm-up. Override max_iters in train_cfg AND the
# scheduler's `end` together, e.g.
#   train_cfg = dict(max_iters=4000)
#   param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=100),
#                      dict(type='PolyLR', power=0.9, eta_min=1e-6, by_epoch=False, begin=100,
#                           end=4000)]
_base_ = ['./adam_iter.py']
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=100),
    dict(type='PolyLR', power=0.9, eta_min=1e-6, by_epoch=False, begin=100, end=2000),
]
