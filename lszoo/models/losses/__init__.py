"""lszoo losses."""
from .binary_cross_entropy import BinaryCrossEntropyLoss  # noqa: F401
from .binary_dice import BinaryDiceLoss  # noqa: F401
from .binary_tversky import BinaryTverskyLoss  # noqa: F401
from .boundary_dice import BoundaryDiceLoss  # noqa: F401
from .focal_tversky import FocalTverskyLoss  # noqa: F401
