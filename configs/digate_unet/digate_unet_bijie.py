# DiGATe-UNet on Bijie: the paper's setup as the reference code (github mishaown/
# DiGATe-UNet-LandSlide-Segmentation) runs it. Two separate, frozen tf_efficientnet_b4 encoders
# started from timm's ImageNet weights (tf_efficientnet_b4.ns_jft_in1k, what the reference's
# pretrained=True resolves to); stream A = RGB, stream B = the DEM three times (each copy
# noised independently, as the reference does to its three-channel DEM); 256x256, per-image
# per-band min-max (dataset base); binary Tversky alpha 0.3 (FP) / beta 0.7 (FN), 0 on batches
# without landslide (smp), on the main output + 0.6 / 0.4 deep supervision + 1e-3 x the four gate
# regularisers (model base); Adam lr 3e-4, weight decay 1e-4, constant (schedule base); batch
# 32, 100 epochs of the 1941 training images (61 iterations each); validation every epoch, the
# best-F1 (Dice) checkpoint kept. Trainable parameters 1,237,515, total 34,721,947.
# See docs/models/digate_unet.md (recipe table).
#   python tools/train.py configs/digate_unet/digate_unet_bijie.py
# Offline: --cfg-options model.backbone.checkpoint=/path/to/tf_efficientnet_b4.ns_jft_in1k.safetensors
_base_ = [
    '../_base_/models/digate_unet.py',
    '../_base_/datasets/bijie.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/adam_iter.py',
]
iters_per_epoch = 61
bands = ['R', 'G', 'B', 'DEM', 'DEM', 'DEM']
stream_layout = {'optical': [0, 1, 2], 'topo': [3, 4, 5]}  # same keys as the base: dicts merge
in_channels = 6
model = dict(
    backbone=dict(stream_channels=([0, 1, 2], [3, 4, 5]), pretrained=True),
    # The paper thresholds the logit at 0.5, i.e. the probability at sigmoid(0.5) = 0.6225.
    decode_head=dict(threshold=0.6225))
# The reference's augmentations (dataset/transforms.py DualStreamTransform, each p=0.5):
# horizontal and vertical flips, gaussian noise N(0, 0.05), salt-and-pepper (0.5 % salt and
# 0.5 % pepper per channel) and CLAHE, each decided once for both streams; the mask is only
# flipped.
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
