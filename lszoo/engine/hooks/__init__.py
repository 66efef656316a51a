"""Hooks registered in ``HOOKS``."""
from .overlay_hook import LandslideOverlayHook  # noqa: F401
from .nonfinite_loss import NonFiniteLossError, NonFiniteLossHook  # noqa: F401
from .provenance import ProvenanceHook  # noqa: F401
from .iteration_seed_hook import IterationSeedHook  # noqa: F401
from .safe_checkpoint_hook import SafeRotationCheckpointHook  # noqa: F401
from .ema_start_hook import LSZooEMAHook  # noqa: F401
from .calibrate_threshold_hook import CalibrateThresholdHook  # noqa: F401
from .precise_bn_hook import PreciseBNHook, recompute_bn_statistics  # noqa: F401
