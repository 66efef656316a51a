# CPU demo of the temporal model: a narrow U-TAE on the whole 15-date Sentinel-2 + DEM series
# of the synthetic Sen12Landslides copy (written to data/sen12_synthetic when missing):
#   python tools/train.py configs/demo/utae_sen12_synthetic.py
# Compare with the single post-date baseline (configs/demo/unet_sen12_synthetic_post.py) and the
# pre/post composite (configs/demo/unet_sen12_synthetic_prepost.py); results in configs/utae/.
_base_ = [
    '../_base_/models/utae.py', '../_base_/datasets/sen12landslides_synthetic.py',
    '../_base_/schedules/adamw_sen12landslides.py', '../_base_/default_runtime.py'
]
widths = [8, 8, 8, 16]  # an eighth of the paper's widths: a few CPU minutes
model = dict(
    backbone=dict(in_channels={{_base_.in_channels}}, n_dates={{_base_.n_dates}},
                  encoder_widths=widths, n_head=4, d_model=16),
    decode_head=dict(in_channels=widths, decoder_widths=widths))
# 4x the authors' rate: 400 iterations instead of their ~15,000
optim_wrapper = dict(optimizer=dict(lr=4e-3))
train_cfg = dict(max_iters=400, val_interval=200)
default_hooks = dict(logger=dict(interval=25), checkpoint=dict(interval=200, max_keep_ckpts=1))
custom_hooks = [dict(type='IterationSeedHook')]
test_after_train = True
