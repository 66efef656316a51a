"""lszoo necks."""
from .gated_fusion import GatedFusionNeck  # noqa: F401
