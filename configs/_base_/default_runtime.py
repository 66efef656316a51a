# Runtime shared by every lszoo config.
custom_imports = dict(imports=['lszoo'], allow_failed_imports=False)
default_scope = 'mmseg'
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
    # CPU threads (lszoo/engine/threads.py, docs/performance.md): the trainer's torch threads
    # from the free cores ('auto'; an explicit OMP_NUM_THREADS wins), one thread per loader worker
    torch_threads='auto',
    worker_threads=1,
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=42)
tta_model = None
# LSZooRunner (lszoo/engine/runner.py): resumes from the last complete checkpoint and always
# registers NonFiniteLossHook (action='stop') and ProvenanceHook; to skip non-finite steps
# instead, add dict(type='NonFiniteLossHook', action='skip') to custom_hooks.
runner_type = 'LSZooRunner'
