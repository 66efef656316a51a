"""Landslide evaluation: metrics (registered in ``METRICS``), threshold calibration and the one
threshold and temperature resolvers."""
from . import metrics  # noqa: F401
from .calibration import calibrate_threshold  # noqa: F401
from .threshold import resolve_temperature, resolve_threshold  # noqa: F401
