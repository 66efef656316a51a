# Iteration-based schedule with Adam and a polynomial learning-rate decay (power 0.9, mmseg's
# usual decay) after a linear warm-up over the first 5 % of the run; both follow whatever
# train_cfg.max_iters is set (lszoo/engine/budget_schedule.py).
_base_ = ['./adam_iter.py']
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end_fraction=0.05),
    dict(type='PolyLR', power=0.9, eta_min=1e-6, by_epoch=False, begin_fraction=0.05,
         end_fraction=1.0),
]
