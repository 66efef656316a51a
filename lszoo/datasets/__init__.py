"""Landslide benchmark datasets and the synthetic landslide generator."""
from . import transforms  # noqa: F401
