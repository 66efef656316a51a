"""CPU threads that fit the machine: the main process's torch threads from the cores that are
actually free, and one thread (torch, OpenMP/BLAS, OpenCV) in every data-loader worker.

Why: on a 2-core machine busy with other jobs, two torch threads in the trainer (OpenMP threads
wait for each other at every operator) plus loader workers each with their own thread pools made
the UNet demo 7x slower than one thread; on an idle machine two threads are faster. Knobs, in the
config's ``env_cfg`` (``configs/_base_/default_runtime.py``; read by
:class:`lszoo.engine.runner.LSZooRunner`):

- ``torch_threads``: ``'auto'`` (default), an int, or ``None`` (torch's own choice). ``'auto'``
  keeps an explicit ``OMP_NUM_THREADS`` from the environment (``torchrun`` sets 1 per process);
  otherwise it takes the usable cores (CPU affinity and cgroup quota) minus the cores that other
  processes keep busy when training starts (sampled from ``/proc/stat``), at least 1.
- ``worker_threads``: threads per data-loader worker, default 1 (``None``: leave them alone).
"""
import math
import os
from typing import Optional, Union

from lszoo.errors import ConfigError

THREAD_ENV = ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS')


CGROUP_CPU_MAX = '/sys/fs/cgroup/cpu.max'  # cgroup v2: "<quota> <period>" or "max <period>"


def available_cpus(cpu_max: str = CGROUP_CPU_MAX) -> int:
    """Cores this process may run on: its CPU affinity, capped by a cgroup v2 CPU quota
    (``cpu_max``, the cgroup's ``cpu.max`` file)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    try:
        with open(cpu_max) as f:
            quota, period = f.read().split()[:2]
        if quota != 'max':
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


def _cpu_times():
    with open('/proc/stat') as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return sum(values), values[3] + values[4]  # total, idle + iowait


def other_load(interval: float = 0.3) -> float:
    """Cores kept busy by other processes right now: the machine's busy share over
    ``interval`` seconds (``/proc/stat``; this process sleeps meanwhile) times its core count;
    the 1-minute load average where ``/proc/stat`` is missing; 0 where both are."""
    import time
    try:
        total0, idle0 = _cpu_times()
        time.sleep(interval)
        total1, idle1 = _cpu_times()
        busy = 1.0 - (idle1 - idle0) / max(1, total1 - total0)
        return max(0.0, busy * (os.cpu_count() or 1))
    except (OSError, ValueError, IndexError):
        pass
    try:
        return max(0.0, os.getloadavg()[0])
    except (AttributeError, OSError):
        return 0.0


def choose_torch_threads(setting: Union[str, int, None] = 'auto', cpus: Optional[int] = None,
                         load: Optional[float] = None, environ=None) -> Optional[int]:
    """Torch threads for the main process (``None``: leave torch's choice); see the module doc."""
    if setting is None:
        return None
    if isinstance(setting, int) and not isinstance(setting, bool):
        if setting < 1:
            raise ConfigError(f'env_cfg.torch_threads must be >= 1, got {setting}')
        return setting
    if setting != 'auto':
        raise ConfigError(f"env_cfg.torch_threads must be 'auto', an int or None, got "
                          f"{setting!r}")
    environ = os.environ if environ is None else environ
    if environ.get('OMP_NUM_THREADS', '').isdigit() and int(environ['OMP_NUM_THREADS']) > 0:
        return int(environ['OMP_NUM_THREADS'])
    cpus = available_cpus() if cpus is None else cpus
    load = other_load() if load is None else load
    return max(1, min(cpus, int(cpus - load + 0.5)))


def limit_threads(n: int = 1) -> None:
    """This process (and what it starts) at ``n`` threads for torch, OpenCV and OpenMP/BLAS."""
    import torch
    torch.set_num_threads(n)
    for key in THREAD_ENV:  # read by libraries that a worker loads or a process it starts
        os.environ[key] = str(n)
    try:
        import cv2
        cv2.setNumThreads(0 if n == 1 else n)  # OpenCV: 0 = run sequentially
    except ImportError:
        pass


def one_thread_worker_init(worker_id: int, num_workers: int, rank: int, seed: Optional[int],
                           threads: int = 1, disable_subprocess_warning: bool = False) -> None:
    """Data-loader ``worker_init_fn``: :func:`limit_threads`, then mmengine's seeding (the same
    seeds as mmengine's default worker init, so runs stay reproducible)."""
    limit_threads(threads)
    if seed is not None:
        from mmengine.dataset.utils import worker_init_fn
        worker_init_fn(worker_id, num_workers, rank, seed, disable_subprocess_warning)


def with_worker_threads(dataloader: dict, seed: Optional[int], rank: int,
                        threads: Optional[int] = 1) -> dict:
    """A data-loader config whose workers run :func:`one_thread_worker_init` (unchanged when it
    has no workers, sets its own ``worker_init_fn``, or ``threads`` is ``None``)."""
    if threads is None or not isinstance(dataloader, dict):
        return dataloader
    if dataloader.get('num_workers', 0) < 1 or 'worker_init_fn' in dataloader:
        return dataloader
    out = dict(dataloader)
    out['worker_init_fn'] = dict(
        type=one_thread_worker_init, num_workers=out['num_workers'], rank=rank, seed=seed,
        threads=threads, disable_subprocess_warning=out.pop('disable_subprocess_warning', False))
    return out
