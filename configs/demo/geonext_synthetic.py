# CPU demo: GeoNeXt-atto on lszoo's in-memory synthetic landslides (no download), trained,
# validated and tested in a few CPU minutes; docs/models/geonext.md has the run and its figures.
#   python tools/train.py configs/demo/geonext_synthetic.py
# Its loss, threshold and EMA decay depart from the paper's for a budget of CPU minutes (why:
# below and docs/models/geonext.md); configs/geonext/* keep the paper's.
_base_ = [
    '../_base_/models/geonext.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/adam_iter.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(arch='atto', in_channels={{_base_.in_channels}}),
    decode_head=dict(
        in_channels=[40, 80, 160, 320],
        threshold=0.5,  # a few hundred iterations leave landslide probabilities near 0.6
        # classifier bias at a 1 % landslide prior, not 0: from p = 0.5 every 1x1 weight went
        # negative and no pixel passed the threshold at 300 iterations (recipes.md, section 6)
        init_cfg=dict(type='Normal', std=0.01, bias_prob=0.01, override=dict(name='conv_seg')),
        loss_decode=[  # the paper's mix keeps every probability low this early
            dict(type='CrossEntropyLoss', use_sigmoid=True, avg_non_ignore=True,
                 loss_weight=1.0),
            dict(type='BinaryTverskyLoss', alpha=0.3, beta=0.7, loss_weight=1.0),
        ]))
# the full-resolution ASPP makes GeoNeXt costly on a CPU: train on 64x64 crops, batch 4
# (validation and test still see the whole 128x128 scenes)
crop_size = (64, 64)
train_pipeline = [
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.0))
train_cfg = dict(max_iters=600, val_interval=300)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=300, max_keep_ckpts=1))
custom_hooks = [  # decay 0.99: a 0.9999 average would still be mostly the random init
    dict(type='EMAHook', ema_type='ExponentialMovingAverage', momentum=0.01, priority=49),
]
test_after_train = True
