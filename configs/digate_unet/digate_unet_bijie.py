# DiGATe-UNet on Bijie: the paper's setup. Two separate, frozen tf_efficientnet_b4
# encoders; stream A = RGB, stream B = the DEM repeated to three channels; 256x256, per-image
# per-band min-max (dataset base); binary Tversky alpha 0.3 (FP) / beta 0.7 (FN) on the main
# output + 0.6 / 0.4 deep supervision + 1e-3 x the four gate regularisers (model base); Adam
# lr 3e-4, weight decay 1e-4, constant (schedule base); batch 32, 100 epochs of the 1941 training
# images = 6100 iterations. Trainable parameters 1,237,515, total 34,721,947.
# The paper's frozen encoders are ImageNet-pretrained: set a local weights file with
#   --cfg-options model.backbone.checkpoint=/path/to/tf_efficientnet_b4.pth
# (without one the frozen encoders keep random weights, and the run warns).
_base_ = [
    '../_base_/models/digate_unet.py',
    '../_base_/datasets/bijie.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/adam_iter.py',
]
model = dict(
    backbone=dict(stream_channels=([0, 1, 2], [3, 3, 3])),  # bands R, G, B, DEM
    # The paper thresholds the logit at 0.5, i.e. the probability at sigmoid(0.5) = 0.6225.
    decode_head=dict(threshold=0.6225))
# The DiGATe recipe's augmentations (each p=0.5): independent horizontal and vertical flips,
# gaussian noise, salt-and-pepper and CLAHE. The reference code applies them to both streams with
# one decision, so streams=None (every channel); the mask is never touched.
train_pipeline = [
    dict(type='LoadLandslideSample'),
    dict(type='Resize', scale={{_base_.crop_size}}, keep_ratio=False),
    dict(type='NormalizeBands', mode='minmax'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='RandomGaussianNoise', prob=0.5, std=0.05, streams=None),
    dict(type='RandomSaltPepper', prob=0.5, amount=0.01, streams=None),
    dict(type='BandCLAHE', prob=0.5, clip_limit=2.0, tile_grid_size=(8, 8), streams=None),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
train_cfg = dict(max_iters=6100, val_interval=610)  # 61 iterations per epoch
default_hooks = dict(checkpoint=dict(interval=610))
