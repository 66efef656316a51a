"""Cross-attention up-block: the deepest decoder step of DiGATe-UNet.

The decoder feature is upsampled 2x by sub-pixel convolution; its pixels become queries and the
encoder skip feature's pixels give keys and values (all projected by 1x1 convolutions to ``E``
channels, ``E = out_channels``). One pre-norm transformer block (multi-head cross-attention, then an
MLP, each with a residual) mixes them, and a 3x3 convolution with norm and ReLU finishes. The same
LayerNorm normalises queries, keys and values, as in the paper. At 256x256 input this runs on
16x16 = 256 tokens, so attention is cheap.
"""
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.registry import MODELS

from .conv_blocks import GN1
from .subpixel_upsample import SubPixelUpsample
from .utils import pad_to


class CrossAttentionBlock(nn.Module):
    """Pre-norm cross-attention transformer block on token sequences (N, L, E).

    ``h = MHA(LN1(q), LN1(k), LN1(v)); q = q + h; q = q + MLP(LN2(q))`` with a GELU MLP.
    """

    def __init__(self, embed_dims: int, num_heads: int = 2, mlp_ratio: float = 2.0):
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'CrossAttentionBlock: embed_dims={embed_dims} is not divisible by '
                             f'num_heads={num_heads}')
        hidden = int(embed_dims * mlp_ratio)
        self.norm1 = nn.LayerNorm(embed_dims)
        self.attn = nn.MultiheadAttention(embed_dims, num_heads, batch_first=True)
        self.norm2 = nn.LayerNorm(embed_dims)
        self.mlp = nn.Sequential(nn.Linear(embed_dims, hidden), nn.GELU(),
                                 nn.Linear(hidden, embed_dims))

    def forward(self, q, k, v):
        h = self.attn(self.norm1(q), self.norm1(k), self.norm1(v), need_weights=False)[0]
        q = q + h
        return q + self.mlp(self.norm2(q))


@MODELS.register_module()
class CrossAttentionUp(nn.Module):
    """Upsample ``dec`` 2x and fuse it with ``skip`` by cross-attention.

    Args:
        dec_channels: channels of the decoder input (upsampled to ``dec_channels // 2``).
        skip_channels: channels of the skip feature (one level shallower, twice the size).
        out_channels: output channels, also the attention width ``E``.
        num_heads: attention heads (default 2). mlp_ratio: MLP width / E (default 2).
        norm_cfg: norm of the sub-pixel and output convolutions (default one-group GroupNorm).

    Shape: ``dec (N, Cd, H, W), skip (N, Cs, 2H, 2W) -> (N, out, 2H, 2W)``.
    """

    def __init__(self, dec_channels: int, skip_channels: int, out_channels: int,
                 num_heads: int = 2, mlp_ratio: float = 2.0, norm_cfg: dict = GN1):
        super().__init__()
        up_channels = dec_channels // 2
        embed = out_channels
        self.up = SubPixelUpsample(dec_channels, up_channels, norm_cfg=norm_cfg)
        self.proj_q = nn.Conv2d(up_channels, embed, 1, bias=False)
        self.proj_k = nn.Conv2d(skip_channels, embed, 1, bias=False)
        self.proj_v = nn.Conv2d(skip_channels, embed, 1, bias=False)
        self.block = CrossAttentionBlock(embed, num_heads, mlp_ratio)
        self.post = ConvModule(embed, out_channels, 3, padding=1, bias=False,
                               norm_cfg=norm_cfg, act_cfg=dict(type='ReLU'))

    def forward(self, dec, skip):
        d = pad_to(self.up(dec), skip)
        n, _, h, w = d.shape
        q = self.proj_q(d).flatten(2).transpose(1, 2)
        k = self.proj_k(skip).flatten(2).transpose(1, 2)
        v = self.proj_v(skip).flatten(2).transpose(1, 2)
        q = self.block(q, k, v)
        return self.post(q.transpose(1, 2).reshape(n, -1, h, w))
