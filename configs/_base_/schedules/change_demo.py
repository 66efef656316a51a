# One budget for every bi-temporal demo (configs/demo/*_synthetic.py on the synthetic change
# world) and the post-only baseline, so that benchmarks/change.py compares like with like:
# Adam 2e-3 constant, batch 8 of 64x64 crops, 400 iterations, then the test split.
_base_ = ['./adam_iter.py']
optim_wrapper = dict(optimizer=dict(lr=2e-3, weight_decay=0.0))
train_cfg = dict(max_iters=400, val_interval=200)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=400, max_keep_ckpts=1))
test_after_train = True
# BCE + Tversky (alpha 0.3 on false positives, beta 0.7 on misses) as the U-Net demo: the rare
# scar pixels come out of the background within the short budget
demo_loss = [
    dict(type='BinaryCrossEntropyLoss', loss_weight=1.0),
    dict(type='BinaryTverskyLoss', alpha=0.3, beta=0.7, loss_weight=1.0),
]
# a light random-init encoder for CPU minutes (timm PP-LCNet 0.5x, widths 16, 32, 64, 128, 256)
demo_encoder = 'lcnet_050'
