"""Reusable blocks shared by lszoo's heads (and usable by any user head)."""
from .aspp import AtrousPyramidPooling  # noqa: F401
from .attention_gate import AttentionGate  # noqa: F401
from .channel_group_norm import ChannelGroupNorm  # noqa: F401
from .conv_blocks import DoubleConv  # noqa: F401
from .cross_attention_up import CrossAttentionBlock, CrossAttentionUp  # noqa: F401
from .gated_fusion import GatedFusion  # noqa: F401
from .gated_skip_up import GatedSkipUp  # noqa: F401
from .psa import PSABlock, PSAModule  # noqa: F401
from .subpixel_upsample import SubPixelUpsample  # noqa: F401
from .ltae import LTAE2d, temporal_aggregate  # noqa: F401
from .utae_blocks import ConvNormAct, UTAEDown, UTAEUp  # noqa: F401
