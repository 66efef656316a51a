"""lszoo backbones."""
from .convnextv2 import ConvNeXtV2Encoder  # noqa: F401
from .dual_stream_timm import DualStreamTimmEncoder  # noqa: F401
from .eo_timm import EOTimmBackbone  # noqa: F401
from .utae_encoder import UTAEEncoder  # noqa: F401
from .siamese_encoder import BitemporalFeatures, SiameseEncoder  # noqa: F401
