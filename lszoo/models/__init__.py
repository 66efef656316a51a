"""Model parts registered in mmsegmentation's ``MODELS`` registry."""
from . import backbones, decode_heads, layers, losses, necks, segmentors  # noqa: F401
