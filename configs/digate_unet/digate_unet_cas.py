# DiGATe-UNet on CAS Landslide. CAS tiles are RGB only: no DEM, no pre-event image, and lszoo's CAS
# reader derives no other band. Choice: both streams read the same RGB (stream_channels
# ([0, 1, 2], [0, 1, 2])) through two SEPARATE and TRAINABLE encoders (frozen=False). With the
# paper's frozen encoders both streams would start from the same ImageNet weights and compute
# identical features, leaving the gates nothing to choose; trained separately, the two streams
# (each with its own decoder) learn different features and the four gates weigh them: DiGATe
# becomes a gated two-branch ensemble on one modality. A shared (siamese) encoder would make the
# two streams identical, so it is not used here. If a co-registered DEM becomes available, add it
# as the dataset's second stream as on Bijie. Both encoders start from timm's ImageNet weights
#   (timm downloads tf_efficientnet_b4.ns_jft_in1k; offline:
#   --cfg-options model.backbone.checkpoint=/path/to/tf_efficientnet_b4.ns_jft_in1k.safetensors)
# 512x512 tiles scaled to [0, 1] (dataset base); Adam 3e-4 / 1e-4 (schedule base).
_base_ = [
    '../_base_/models/digate_unet.py',
    '../_base_/datasets/cas.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/adam_iter.py',
]
model = dict(backbone=dict(stream_channels=([0, 1, 2], [0, 1, 2]), frozen=False,
                           pretrained=True))
train_dataloader = dict(batch_size=8)
train_cfg = dict(max_iters=20000, val_interval=2000)
default_hooks = dict(checkpoint=dict(interval=2000))
