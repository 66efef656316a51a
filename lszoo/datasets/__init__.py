"""Landslide benchmark datasets and the synthetic landslide generator."""
from . import transforms  # noqa: F401
from .synthetic import SyntheticLandslideDataset, generate_scene  # noqa: F401
from .l4s import L4SDataset  # noqa: F401
from .bijie import BijieDataset  # noqa: F401
from .cas import CASLandslideDataset  # noqa: F401
from .gvlm import GVLMDataset  # noqa: F401
from .inventory import InventoryDataset  # noqa: F401
