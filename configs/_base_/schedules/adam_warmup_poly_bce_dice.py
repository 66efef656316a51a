# The baselines' recipe (`benchmarks.real --recipe bce_dice`, benchmarks/results/real.md): Adam
# 1e-3, no weight decay, linear warm-up over 10 % of the run, then poly 0.9 to 1e-6; meant with
# the BCE + Dice loss of the baseline model bases. Both phases follow train_cfg.max_iters
# (lszoo/engine/budget_schedule.py).
_base_ = ['./adam_iter.py']
optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end_fraction=0.1),
    dict(type='PolyLR', power=0.9, eta_min=1e-6, by_epoch=False, begin_fraction=0.1,
         end_fraction=1.0),
]
train_cfg = dict(max_iters=2000)
# Keep the checkpoint with the best validation landslide IoU beside the last ones: long runs on
# small sets overfit (docs/benchmarks/recipes.md, section 7).
default_hooks = dict(checkpoint=dict(save_best='IoU', rule='greater'))
