"""Training-time machinery: runner, hooks, safe checkpoint I/O."""
from . import hooks  # noqa: F401
from . import checkpoint  # noqa: F401  (safe checkpoint loading, installed on import)
from .runner import LSZooRunner  # noqa: F401
from .warmup_ema import WarmupExponentialMovingAverage  # noqa: F401
