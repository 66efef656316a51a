"""Landslide benchmark datasets and the synthetic landslide generator."""
from . import transforms  # noqa: F401
from .synthetic import SyntheticLandslideDataset, generate_scene  # noqa: F401
