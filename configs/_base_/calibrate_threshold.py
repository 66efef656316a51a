# Calibrate the landslide threshold on the validation split when training ends (the last and the
# best checkpoints; the log says so): these models' probabilities sit off 0.5 after short runs
# (docs/benchmarks/recipes.md, section 5). Needs a validation split.
custom_hooks = [dict(type='CalibrateThresholdHook')]
