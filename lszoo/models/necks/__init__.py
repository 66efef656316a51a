"""lszoo necks."""
from .gated_fusion import GatedFusionNeck  # noqa: F401
from .neck_sequence import NeckSequence  # noqa: F401
from .temporal_fusion import TemporalFusionNeck  # noqa: F401
