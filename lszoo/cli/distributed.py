"""Several processes on a CPU-only machine: gloo and a DDP wrapper without ``device_ids``."""
import torch


def setup_cpu_distributed(cfg, launcher: str) -> None:
    """Make ``--launcher pytorch`` work without CUDA: gloo backend and a CPU model wrapper.

    mmengine's ``init_dist`` calls ``torch.cuda.set_device`` and wraps the model with
    ``device_ids=[LOCAL_RANK]``, both of which fail on a CPU-only machine. Here the process group
    is started with gloo from torchrun's environment (mmengine then skips its own init) and the
    model wrapper drops ``device_ids``. Nothing changes when CUDA is available.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return
    env_cfg = cfg.setdefault('env_cfg', {})
    env_cfg.setdefault('dist_cfg', {})
    env_cfg['dist_cfg']['backend'] = 'gloo'
    init_gloo(launcher)
    _register_cpu_ddp()
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    if wrapper.get('type', 'MMDistributedDataParallel') == 'MMDistributedDataParallel':
        wrapper['type'] = 'CPUDistributedDataParallel'
        wrapper.setdefault('broadcast_buffers', False)
        wrapper.setdefault('find_unused_parameters', cfg.get('find_unused_parameters', False))
        cfg.model_wrapper_cfg = wrapper


def init_gloo(launcher: str = 'pytorch') -> None:
    """Start a gloo process group from torchrun's environment (once)."""
    import torch.distributed as dist
    if launcher == 'pytorch' and not dist.is_initialized():
        dist.init_process_group(backend='gloo')


def _register_cpu_ddp() -> None:
    from mmengine.model import MMDistributedDataParallel
    from mmengine.registry import MODEL_WRAPPERS

    if MODEL_WRAPPERS.get('CPUDistributedDataParallel') is not None:
        return

    class CPUDistributedDataParallel(MMDistributedDataParallel):
        """mmengine's DDP wrapper for CPU modules (torch refuses ``device_ids`` there)."""

        def __init__(self, module, device_ids=None, output_device=None, **kwargs):
            super().__init__(module=module, **kwargs)

    MODEL_WRAPPERS.register_module(module=CPUDistributedDataParallel)
