"""Inventory-grade evaluation of a mapped inventory against a reference one (read both in one
projected CRS, match landslides one to one, tables by size class, calibration of a probability
map): what ``tools/evaluate_inventory.py`` runs, usable from Python."""
from .evaluate import compare_inventories  # noqa: F401
from .io import prepare  # noqa: F401
