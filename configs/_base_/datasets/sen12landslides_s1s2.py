# Sen12Landslides S12LS-LD, Sentinel-2 + Sentinel-1 ascending + descending + DEM on the patches
# present for all three (splits_aligned.json, norm_aligned.json). Date t stacks the t-th
# acquisition of each sensor (they are not simultaneous).
_base_ = ['./sen12landslides.py']
_sensor = dict(sensors=['s2', 's1asc', 's1dsc'])
in_channels = 15  # per date: 10 S2 + 2 + 2 S1 bands + DEM
train_dataloader = dict(dataset=_sensor)
val_dataloader = dict(dataset=_sensor)
test_dataloader = dict(dataset=_sensor)
