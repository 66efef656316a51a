# DiGATe-UNet on GVLM. GVLM has no DEM; its second image is the PRE-event RGB of the same site, so
# stream B = pre-event RGB and stream A = post-event RGB (dataset base gvlm_prepost: channels 0-2
# post, 3-5 pre). The early gates then mix post- and pre-event features, which is the change
# signal GVLM's masks are drawn from (landslides are what changed between the two dates). Both
# streams are RGB, so the paper's frozen ImageNet encoders fit unchanged
#   (timm downloads tf_efficientnet_b4.ns_jft_in1k; offline:
#   --cfg-options model.backbone.checkpoint=/path/to/tf_efficientnet_b4.ns_jft_in1k.safetensors)
# Recipe as on Bijie (model base, Adam 3e-4 / 1e-4, 256x256 tiles).
_base_ = [
    '../_base_/models/digate_unet.py',
    '../_base_/datasets/gvlm_prepost.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/adam_iter.py',
]
model = dict(backbone=dict(stream_channels=([0, 1, 2], [3, 4, 5]), pretrained=True))
train_dataloader = dict(batch_size=32)
train_cfg = dict(max_iters=6000, val_interval=600)
default_hooks = dict(checkpoint=dict(interval=600))
