"""Lightweight Temporal Attention Encoder (L-TAE) applied at every pixel of a feature map.

Garnot & Landrieu, "Lightweight Temporal Self-Attention for Classifying Satellite Images Time
Series" (AALTD 2020) and its 2-D use in U-TAE ("Panoptic Segmentation of Satellite Image Time
Series with Convolutional Temporal Attention Networks", ICCV 2021): each head has one learned
*master query*; keys come from a linear map of the (normalised, projected) input; the values are
the input's channel groups, one group per head, so the attention is cheap and its weights can
aggregate other feature maps too (:func:`temporal_aggregate`).
"""
import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


class SinusoidPositions(nn.Module):
    """Sinusoidal encoding of acquisition positions (e.g. days), repeated for every head."""

    def __init__(self, dim: int, repeat: int, period: float = 1000.0):
        super().__init__()
        exponents = 2 * (torch.arange(dim) // 2).float() / dim
        self.register_buffer('denom', torch.pow(float(period), exponents), persistent=False)
        self.repeat = repeat

    def forward(self, positions: torch.Tensor) -> torch.Tensor:  # (N, T) -> (N, T, dim*repeat)
        table = positions[..., None].float() / self.denom
        table = torch.stack([table[..., 0::2].sin(), table[..., 1::2].cos()], -1)
        return table.flatten(-2).repeat(1, 1, self.repeat)


class LTAE2d(nn.Module):
    """L-TAE over ``(B, T, C, H, W)`` -> ``(B, C_out, H, W)`` and attention ``(heads, B, T, H, W)``.

    Args:
        in_channels: channels of the input maps.
        n_head: attention heads (each attends over time with its own master query).
        d_k: key / query width per head.
        mlp: widths of the MLP after the heads; ``mlp[0]`` must equal ``d_model``.
        d_model: width of the 1x1 projection before attention (None: no projection).
        dropout: dropout after the MLP; ``attn_dropout`` on the attention weights.
        positional_encoding: add sinusoids of the positions given to ``forward`` (the period
            ``period``, in the positions' unit, e.g. days).
    """

    def __init__(self, in_channels: int = 128, n_head: int = 16, d_k: int = 4,
                 mlp: Sequence[int] = (256, 128), d_model: Optional[int] = 256,
                 dropout: float = 0.2, attn_dropout: float = 0.1,
                 positional_encoding: bool = True, period: float = 1000.0):
        super().__init__()
        self.n_head, self.d_k = n_head, d_k
        self.d_model = in_channels if d_model is None else d_model
        if mlp[0] != self.d_model or self.d_model % n_head:
            raise ValueError(f'LTAE2d: mlp[0] ({mlp[0]}) must equal d_model ({self.d_model}), '
                             f'divisible by n_head ({n_head})')
        self.in_norm = nn.GroupNorm(n_head, in_channels)
        self.inconv = None if d_model is None else nn.Conv1d(in_channels, d_model, 1)
        self.positions = SinusoidPositions(self.d_model // n_head, n_head, period) \
            if positional_encoding else None
        self.query = nn.Parameter(torch.randn(n_head, d_k) * math.sqrt(2.0 / d_k))
        self.key = nn.Linear(self.d_model, n_head * d_k)
        nn.init.normal_(self.key.weight, 0.0, math.sqrt(2.0 / d_k))
        self.attn_dropout = nn.Dropout(attn_dropout)
        layers = []
        for a, b in zip(mlp[:-1], mlp[1:]):
            layers += [nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU()]
        self.mlp = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.out_norm = nn.GroupNorm(n_head, mlp[-1])

    def forward(self, x: torch.Tensor, positions: Optional[torch.Tensor] = None,
                pad_mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """``positions`` ``(B, T)`` (needed with positional encoding); ``pad_mask`` ``(B, T)``
        True for padded dates, which get no attention."""
        b, t, c, h, w = x.shape
        seq = x.permute(0, 3, 4, 1, 2).reshape(b * h * w, t, c)
        seq = self.in_norm(seq.transpose(1, 2))
        if self.inconv is not None:
            seq = self.inconv(seq)
        seq = seq.transpose(1, 2)  # (N, T, d_model)
        if self.positions is not None:
            if positions is None:
                raise ValueError('LTAE2d: positional_encoding=True needs positions (B, T)')
            pos = positions[:, None, None, :].expand(b, h, w, t).reshape(b * h * w, t)
            seq = seq + self.positions(pos)
        keys = self.key(seq).view(-1, t, self.n_head, self.d_k)  # (N, T, heads, d_k)
        scores = torch.einsum('nthk,hk->nht', keys, self.query) / math.sqrt(self.d_k)
        if pad_mask is not None:
            mask = pad_mask[:, None, None, :].expand(b, h, w, t).reshape(b * h * w, 1, t)
            scores = scores.masked_fill(mask, -1e3)
        attn = self.attn_dropout(F.softmax(scores, dim=-1))  # (N, heads, T)
        values = seq.view(-1, t, self.n_head, self.d_model // self.n_head)
        out = torch.einsum('nht,nthv->nhv', attn, values).reshape(-1, self.d_model)
        out = self.out_norm(self.dropout(self.mlp(out)))
        out = out.view(b, h, w, -1).permute(0, 3, 1, 2).contiguous()
        attn = attn.view(b, h, w, self.n_head, t).permute(3, 0, 4, 1, 2).contiguous()
        return out, attn


def temporal_aggregate(x: torch.Tensor, attn: torch.Tensor, mode: str = 'att_group',
                       pad_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Collapse ``x`` ``(B, T, C, H, W)`` over time with L-TAE attention ``(heads, B, T, h, w)``.

    ``att_group``: the channels are split into one group per head, each weighted by its head's
    attention (resized to ``H x W``: bilinear up, average-pooled down); ``att_mean``: the mean
    attention over heads; ``mean``: the plain mean over the non-padded dates.
    """
    b, t, c, hh, ww = x.shape
    keep = None if pad_mask is None else (~pad_mask).float()  # (B, T)
    if mode == 'mean':
        if keep is None:
            return x.mean(dim=1)
        return (x * keep[:, :, None, None, None]).sum(1) / keep.sum(1).clamp(min=1)[:, None,
                                                                                   None, None]
    heads = attn.shape[0]
    a = attn.mean(0, keepdim=True) if mode == 'att_mean' else attn
    a = a.reshape(-1, t, *attn.shape[-2:])
    if hh > a.shape[-2]:
        a = F.interpolate(a, size=(hh, ww), mode='bilinear', align_corners=False)
    elif hh < a.shape[-2]:
        a = F.avg_pool2d(a, kernel_size=a.shape[-2] // hh)
    a = a.view(-1, b, t, hh, ww)
    if keep is not None:
        a = a * keep[None, :, :, None, None]
    if mode == 'att_mean':
        return (x * a[0][:, :, None]).sum(1)
    if mode != 'att_group':
        raise ValueError(f"temporal_aggregate: mode {mode!r}; 'att_group', 'att_mean', 'mean'")
    groups = x.view(b, t, heads, c // heads, hh, ww)
    out = (groups * a.permute(1, 2, 0, 3, 4)[:, :, :, None]).sum(1)
    return out.reshape(b, c, hh, ww)
