"""lszoo segmentors."""
from .auto_width_encoder_decoder import AutoWidthEncoderDecoder
from .landslide_tta import LandslideTTAModel

__all__ = ['AutoWidthEncoderDecoder', 'LandslideTTAModel']
