"""lszoo segmentors."""
from .landslide_tta import LandslideTTAModel  # noqa: F401
