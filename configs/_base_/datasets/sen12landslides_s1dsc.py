# Sen12Landslides S12LS-LD, Sentinel-1 dsc (VV, VH in dB, clipped to [-50, 10]) + DEM,
# all 15 dates; the task's s1dsc/splits.json and norm.json.
_base_ = ['./sen12landslides.py']
_sensor = dict(sensors=['s1dsc'])
in_channels = 3  # per date: VV, VH + DEM
train_dataloader = dict(dataset=_sensor)
val_dataloader = dict(dataset=_sensor)
test_dataloader = dict(dataset=_sensor)
