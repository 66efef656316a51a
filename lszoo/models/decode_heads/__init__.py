"""lszoo decode heads."""
from .psa_aspp_head import PSAASPPHead  # noqa: F401
from .unet_decoder_head import UNetDecoderHead  # noqa: F401
from .digate_head import DiGATeHead  # noqa: F401
from .utae_head import UTAEHead  # noqa: F401
from .token_change_head import TokenChangeHead  # noqa: F401
