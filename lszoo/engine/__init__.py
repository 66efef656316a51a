"""Training-time machinery: runner, hooks and the mmengine patches (``checkpoint`` keeps the old
names of the checkpoint I/O that lives in :mod:`lszoo.utils`)."""
from . import hooks  # noqa: F401
from . import checkpoint, mmengine_patches  # noqa: F401
from .amp import CPUAutocastOptimWrapper  # noqa: F401
from .runner import LSZooRunner, build_runner  # noqa: F401
from .warmup_ema import WarmupExponentialMovingAverage  # noqa: F401
