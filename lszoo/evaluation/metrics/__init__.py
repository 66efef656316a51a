"""Metric implementations."""
from .landslide_metric import LandslideMetric  # noqa: F401
from .threshold_calibration import ThresholdCalibrationMetric  # noqa: F401
