# The candidate baseline recipe measured by tools/real_benchmark.py --recipe bce_dice
# (docs/benchmarks/real.md): Adam lr 1e-3 without weight decay, a linear warm-up over the first
# 10 % of the iterations (from 1e-4) then a polynomial decay (power 0.9) to 1e-6. Use it with
# the BCE + Dice loss it was measured with, set in the experiment config:
#   model = dict(decode_head=dict(loss_decode=[
#       dict(type='BinaryCrossEntropyLoss', loss_weight=1.0),
#       dict(type='BinaryDiceLoss', loss_weight=1.0)]))
# Measured on 24 real Bijie images / 12 test (128x128 crops, batch 4, from scratch, threshold
# 0.5; 2-core shared CPU): U-Net ResNet-18 (timm_unet) landslide IoU 16.38 after 150 iterations
# against 0.00 with the baselines' recipe (BCE alone, Adam 3e-4 constant, weight decay 1e-4);
# after 80 iterations U-Net EfficientNet-B0 17.44 against 18.78, UNet-w16 0 with both.
# Warm-up + poly kept against a constant 1e-3 (smp yardstick's): U-Net ResNet-18 16.38 vs 12.95.
# The schedule follows the run's length (lszoo/engine/budget_schedule.py): warm-up over the first
# 10 % of train_cfg.max_iters, decay over the rest, whatever max_iters a config or user sets.
_base_ = ['./adam_iter.py']
optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end_fraction=0.1),
    dict(type='PolyLR', power=0.9, eta_min=1e-6, by_epoch=False, begin_fraction=0.1,
         end_fraction=1.0),
]
train_cfg = dict(max_iters=2000)
