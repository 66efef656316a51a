_base_ = [
    '../_base_/models/utae.py', '../_base_/datasets/sen12landslides_s1asc.py',
    '../_base_/schedules/adamw_sen12landslides.py', '../_base_/default_runtime.py'
]
model = dict(backbone=dict(in_channels={{_base_.in_channels}}, n_dates={{_base_.n_dates}}))
