"""Metric implementations."""
from .landslide_metric import LandslideMetric  # noqa: F401
