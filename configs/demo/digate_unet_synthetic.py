# DiGATe-UNet demo on lszoo's in-memory synthetic landslides (no files, no download): a CPU run of
# a few minutes that shows the dual-stream model learning. Stream A = R, G, B; stream B = DEM,
# slope (the synthetic dataset's stream_layout). The paper's frozen tf_efficientnet_b4 pair needs
# ImageNet weights, which cannot be downloaded here, so this demo trains two small randomly
# initialised encoders instead: timm `lcnet_050` (PP-LCNet at 0.5x width;
# docs/models/digate_unet.md). Everything else is the paper's model.
#   python tools/train.py configs/demo/digate_unet_synthetic.py
_base_ = [
    '../_base_/models/digate_unet.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/adam_iter.py',
]
# The neck's and head's widths follow the encoder: lcnet_050 gives 16, 32, 64, 128, 256.
model = dict(
    backbone=dict(
        model_name='lcnet_050',
        stream_channels=([0, 1, 2], [3, 4]),  # the dataset's stream_layout: optical, topo
        frozen=False))  # random weights: the encoders must learn
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_iters=300, val_interval=150)
default_hooks = dict(
    logger=dict(interval=25),
    checkpoint=dict(interval=300, max_keep_ckpts=1))
custom_hooks = [
    dict(type='IterationSeedHook'),  # augmentation draws depend on the iteration: exact resume
    dict(type='LandslideOverlayHook', out_dir='overlays', max_images=6),
]
test_after_train = True
