"""Landslide evaluation: metrics (registered in ``METRICS``), threshold calibration and the one
threshold resolver."""
from . import metrics  # noqa: F401
from .calibration import calibrate_threshold  # noqa: F401
from .threshold import resolve_threshold  # noqa: F401
