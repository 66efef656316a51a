"""A BIT-style token transformer change head over a siamese encoder's two feature pyramids.

Chen, Qi, Shi, "Remote Sensing Image Change Detection with Transformers" (BIT, IEEE TGRS 2021):
each date's feature map is summarised by a few semantic tokens (spatial attention pooling), a
transformer encoder relates the tokens of both dates, a transformer decoder projects them back
onto each date's pixels, and the change map is read from the absolute difference of the refined
maps.

Why this design rather than TinyCD-style mixing (Codegoni et al., 2022): TinyCD mixes the two
dates channel by channel with small convolutions, i.e. it compares them pixel by pixel, which is
cheap but sensitive to what pre/post landslide pairs always carry: a few pixels of
misregistration and a colour shift over the whole scene (season, sun, sensor). BIT's tokens pool
each date over the whole tile, so a global colour shift or a small shift of the image moves them
little, and the cross-date attention lets the refined maps agree where the ground did not change.
It also reads any encoder pyramid (any timm encoder through ``SiameseEncoder``), where TinyCD is
built around a fixed EfficientNet slice.
"""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS

from lszoo.errors import ConfigError
from lszoo.models.segmentors.auto_width_encoder_decoder import check_widths_resolved


class TokenToPixelDecoder(nn.Module):
    """Each pixel (query) attends to its date's tokens; pre-norm, residual, then an MLP."""

    def __init__(self, channels: int, num_heads: int, mlp_ratio: float):
        super().__init__()
        self.norm_q = nn.LayerNorm(channels)
        self.norm_kv = nn.LayerNorm(channels)
        self.attn = nn.MultiheadAttention(channels, num_heads, batch_first=True)
        self.norm_mlp = nn.LayerNorm(channels)
        hidden = int(channels * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(channels, hidden), nn.GELU(),
                                 nn.Linear(hidden, channels))

    def forward(self, pixels: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        kv = self.norm_kv(tokens)
        pixels = pixels + self.attn(self.norm_q(pixels), kv, kv, need_weights=False)[0]
        return pixels + self.mlp(self.norm_mlp(pixels))


@MODELS.register_module()
class TokenChangeHead(BaseDecodeHead):
    """BIT-style change head (see the module doc) as an mmseg decode head.

    Args:
        in_channels: per-date widths of the levels ``in_index`` picks, or ``'auto'`` (filled by
            ``AutoWidthEncoderDecoder`` from a :class:`SiameseEncoder`).
        in_index: encoder levels read; with the default ``input_transform='resize_concat'`` they
            are resized to the first one's size and concatenated (e.g. strides 4, 8, 16 of a
            timm encoder: fine enough for small scars, deep enough for context).
        channels: width of the reduced maps and the tokens.
        num_tokens: tokens per date (BIT: 4).
        depth: transformer encoder layers over the ``2 * num_tokens`` tokens.
        num_heads, mlp_ratio: of the attention blocks.
        **kwargs: ``BaseDecodeHead`` arguments (``num_classes``, ``out_channels``,
            ``threshold``, ``loss_decode``, ...).

    Input: :data:`~lszoo.models.backbones.siamese_encoder.BitemporalFeatures` (or a
    ``(pre, post)`` pair of pyramids). Logits come out at the first level's resolution; mmseg
    resizes them to the label / image size.
    """

    def __init__(self, in_channels, in_index=(1, 2, 3), channels: int = 32,
                 num_tokens: int = 4, depth: int = 1, num_heads: int = 4,
                 mlp_ratio: float = 2.0, **kwargs):
        check_widths_resolved('TokenChangeHead', in_channels)
        if channels % num_heads:
            raise ConfigError(f'TokenChangeHead: channels={channels} must be divisible by '
                              f'num_heads={num_heads}')
        if num_tokens < 1 or depth < 1:
            raise ConfigError(f'TokenChangeHead: num_tokens and depth must be >= 1, got '
                              f'{num_tokens}, {depth}')
        kwargs.setdefault('input_transform', 'resize_concat')
        kwargs.setdefault('dropout_ratio', 0.0)
        super().__init__(in_channels, channels, in_index=list(in_index), **kwargs)
        self.num_tokens = int(num_tokens)
        self.reduce = ConvModule(self.in_channels, channels, 1, norm_cfg=self.norm_cfg,
                                 act_cfg=self.act_cfg)
        self.tokenizer = nn.Conv2d(channels, self.num_tokens, 1)
        self.pos_embed = nn.Parameter(torch.zeros(1, 2 * self.num_tokens, channels))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        layer = nn.TransformerEncoderLayer(channels, num_heads, int(channels * mlp_ratio),
                                           dropout=0.0, activation='gelu', batch_first=True,
                                           norm_first=True)
        self.transformer = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.decoder = TokenToPixelDecoder(channels, num_heads, mlp_ratio)
        self.classifier_convs = nn.Sequential(
            ConvModule(channels, channels, 3, padding=1, norm_cfg=self.norm_cfg,
                       act_cfg=self.act_cfg),
            ConvModule(channels, channels, 3, padding=1, norm_cfg=self.norm_cfg,
                       act_cfg=self.act_cfg))

    def _tokens(self, x: torch.Tensor) -> torch.Tensor:
        """(N, L, C): spatial-attention pooling of ``x`` (N, C, H, W) into L tokens."""
        attn = self.tokenizer(x).flatten(2).softmax(-1)  # N, L, HW
        return attn @ x.flatten(2).transpose(1, 2)

    def _refine(self, x: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        out = self.decoder(x.flatten(2).transpose(1, 2), tokens)
        return out.transpose(1, 2).reshape(n, c, h, w)

    def forward(self, inputs):
        pre, post = inputs[0], inputs[1]
        x_pre = self.reduce(self._transform_inputs(pre))
        x_post = self.reduce(self._transform_inputs(post))
        tokens = torch.cat([self._tokens(x_pre), self._tokens(x_post)], 1) + self.pos_embed
        t_pre, t_post = self.transformer(tokens).split(self.num_tokens, 1)
        change = (self._refine(x_post, t_post) - self._refine(x_pre, t_pre)).abs()
        return self.cls_seg(self.classifier_convs(change))
