# DiGATe-UNet on Bijie with the paper's recipe as the reference code runs it (the recipe table:
# docs/models/digate_unet.md): stream A = RGB, stream B = the DEM three times, batch 32,
# 100 epochs of the 1941 training images, the reference's augmentations.
#   python tools/train.py configs/digate_unet/digate_unet_bijie.py
# Offline: --cfg-options model.backbone.checkpoint=PATH (tf_efficientnet_b4.ns_jft_in1k weights)
_base_ = [
    '../_base_/models/digate_unet.py',
    '../_base_/datasets/bijie.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/adam_iter.py',
]
iters_per_epoch = 61  # 1941 images at batch 32
bands = ['R', 'G', 'B', 'DEM', 'DEM', 'DEM']
stream_layout = {'optical': [0, 1, 2], 'topo': [3, 4, 5]}  # same keys as the base: dicts merge
in_channels = 6
model = dict(
    # fixed 256x256 training inputs and 6100 steps repay compiling the frozen encoders
    # (break-even: docs/performance.md); validation and testing stay eager
    backbone=dict(stream_channels=([0, 1, 2], [3, 4, 5]), pretrained=True,
                  compile_frozen='train'),
    decode_head=dict(threshold=0.6225))  # the paper's logit cut-off 0.5: sigmoid(0.5)
# the reference's DualStreamTransform: each step p=0.5, decided once for both streams
train_pipeline = [
    dict(type='LoadLandslideSample'),
    dict(type='Resize', scale={{_base_.crop_size}}, keep_ratio=False),
    dict(type='NormalizeBands', mode='minmax'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='RandomGaussianNoise', prob=0.5, std=0.05, streams=None),
    dict(type='RandomSaltPepper', prob=0.5, amount=0.01, per_channel=True, streams=None),
    dict(type='BandCLAHE', prob=0.5, clip_limit=2.0, tile_grid_size=(8, 8), streams=None),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline, bands=bands,
                                                    stream_layout=stream_layout))
val_dataloader = dict(dataset=dict(bands=bands, stream_layout=stream_layout))
test_dataloader = dict(dataset=dict(bands=bands, stream_layout=stream_layout))
train_cfg = dict(max_iters=100 * iters_per_epoch, val_interval=iters_per_epoch)
# the reference keeps the epoch with the best validation Dice (= F1 of the landslide class)
default_hooks = dict(checkpoint=dict(interval=iters_per_epoch, max_keep_ckpts=2,
                                     save_best='F1', rule='greater'))
