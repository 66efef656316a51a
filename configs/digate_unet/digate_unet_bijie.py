# DiGATe-UNet on Bijie: the paper's setup (Hossain et al.). Two separate, frozen tf_efficientnet_b4
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
train_dataloader = dict(batch_size=32)
train_cfg = dict(max_iters=6100, val_interval=610)  # 61 iterations per epoch
default_hooks = dict(checkpoint=dict(interval=610))
