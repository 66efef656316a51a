# Recompute BatchNorm statistics over 100 training batches when training ends, before the last
# checkpoint: batch-4 running statistics lag weights that still move at the end of a run
# (docs/benchmarks/recipes.md, section 4).
custom_hooks = [dict(type='PreciseBNHook', num_batches=100)]
