"""Siamese (shared-weight) encoder over the two dates of a bi-temporal sample.

Change detection compares a pre-event and a post-event image. Encoding both with ONE set of
weights (Daudt et al., "Fully Convolutional Siamese Networks for Change Detection", ICIP 2018)
puts the two dates in the same feature space, so their difference means change and not a
difference between two encoders. Both dates come from the one input tensor of the lszoo sample
contract (``docs/architecture.md``): ``stream_channels`` names the ``post`` and ``pre`` channels
(the dataset's ``stream_layout``) and optionally a single-date ``dem`` stream.
"""
import inspect
from collections import namedtuple
from typing import Dict, Optional, Sequence

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from lszoo.errors import ConfigError
from lszoo.models.segmentors.auto_width_encoder_decoder import feature_widths

#: What :class:`SiameseEncoder` returns: per-level maps of each date (shallow to deep) and of
#: the DEM stream when it has its own encoder (else ``None``).
BitemporalFeatures = namedtuple('BitemporalFeatures', ['pre', 'post', 'dem'])

DATES = ('pre', 'post')


def _with_in_channels(cfg: dict, n: int) -> dict:
    """``cfg`` with ``in_channels=n`` when its class takes ``in_channels``."""
    cls = MODELS.get(cfg['type']) if isinstance(cfg.get('type'), str) else cfg.get('type')
    if cls is None:
        return cfg  # the registry reports the unknown type
    if 'in_channels' in inspect.signature(cls.__init__).parameters:
        given = cfg.get('in_channels')
        if given not in (None, 'auto', n):
            raise ConfigError(f'SiameseEncoder: {cfg["type"]} in_channels={given} but its '
                              f'stream has {n} channel(s); leave in_channels out')
        cfg = dict(cfg, in_channels=n)
    return cfg


@MODELS.register_module()
class SiameseEncoder(BaseModule):
    """One encoder run on both dates (shared weights); an optional DEM stream stays single-date.

    Args:
        encoder: config of any lszoo / mmseg encoder that returns a list of maps (e.g.
            ``TIMMBackbone``, ``ConvNeXtV2Encoder``, ``EOTimmBackbone``); its ``in_channels``
            is set from ``stream_channels``.
        stream_channels: ``dict(post=[...], pre=[...])`` channel indices of each date (same
            count), optionally ``dem=[...]`` (an index may repeat, e.g. the DEM three times).
        dem_encoder: config of a separate encoder for the DEM stream (DiGATe-UNet's topography
            stream; its features come back as ``dem``). Without it the DEM channels are appended
            to each date's input, so both dates see the same terrain.
        frozen: no gradient for the shared encoder (BatchNorm statistics still update in train
            mode, as DiGATe-UNet's frozen encoders).
        pretrained: when set, the ``pretrained`` flag of both encoder configs (so
            ``model.backbone.pretrained``, which lszoo's tools and tests switch, reaches them).

    ``forward(x)`` returns :data:`BitemporalFeatures`. The two dates go through the encoder as
    one batch of ``2N`` images (in train mode BatchNorm pools its statistics over both dates),
    so the one parameter set gets gradients from both. ``out_channels``: the per-date widths.
    """

    def __init__(self, encoder: dict, stream_channels: Dict[str, Sequence[int]],
                 dem_encoder: Optional[dict] = None, frozen: bool = False,
                 pretrained: Optional[bool] = None, init_cfg=None):
        super().__init__(init_cfg)
        if pretrained is not None:
            encoder = dict(encoder, pretrained=bool(pretrained))
            if dem_encoder is not None:
                dem_encoder = dict(dem_encoder, pretrained=bool(pretrained))
        self.stream_channels = self._check_streams(stream_channels)
        dem = self.stream_channels.get('dem', [])
        if dem_encoder is not None and not dem:
            raise ConfigError('SiameseEncoder: dem_encoder is set but stream_channels has no '
                              "'dem' channels")
        n_date = len(self.stream_channels['post']) + (0 if dem_encoder else len(dem))
        self.encoder = MODELS.build(_with_in_channels(dict(encoder), n_date))
        self.dem_encoder = (MODELS.build(_with_in_channels(dict(dem_encoder), len(dem)))
                            if dem_encoder is not None else None)
        self.out_channels = feature_widths(self.encoder)
        self.dem_out_channels = (feature_widths(self.dem_encoder)
                                 if self.dem_encoder is not None else None)
        self.frozen = bool(frozen)
        if self.frozen:
            for p in self.encoder.parameters():
                p.requires_grad_(False)
        self._index = {k: torch.tensor(v, dtype=torch.long)
                       for k, v in self.stream_channels.items()}

    @staticmethod
    def _check_streams(stream_channels) -> Dict[str, list]:
        if not isinstance(stream_channels, dict) or any(d not in stream_channels
                                                        for d in DATES):
            raise ConfigError(f"SiameseEncoder: stream_channels must be a dict with 'post' and "
                              f"'pre' channel lists (and optionally 'dem'), got "
                              f'{stream_channels!r}')
        unknown = set(stream_channels) - {'pre', 'post', 'dem'}
        if unknown:
            raise ConfigError(f'SiameseEncoder: unknown streams {sorted(unknown)} in '
                              "stream_channels (expected 'post', 'pre', 'dem')")
        out = {}
        for name, chans in stream_channels.items():
            try:
                out[name] = [int(c) for c in chans]
            except (TypeError, ValueError):
                raise ConfigError(f'SiameseEncoder: stream_channels[{name!r}] must list channel '
                                  f'indices, got {chans!r}') from None
            if not out[name] or min(out[name]) < 0:
                raise ConfigError(f'SiameseEncoder: stream_channels[{name!r}] must be non-empty '
                                  f'non-negative indices, got {chans!r}')
        if len(out['pre']) != len(out['post']):
            raise ConfigError(f"SiameseEncoder: 'pre' and 'post' need the same channel count "
                              f'(same bands of both dates), got {out["pre"]} and {out["post"]}')
        return out

    def _take(self, x: torch.Tensor, name: str) -> torch.Tensor:
        idx = self._index[name]
        if idx.device != x.device:
            idx = self._index[name] = idx.to(x.device)
        return x.index_select(1, idx)

    def _encode(self, x: torch.Tensor):
        if self.frozen and torch.is_grad_enabled():
            with torch.no_grad():
                return tuple(self.encoder(x))
        return tuple(self.encoder(x))

    def forward(self, x: torch.Tensor) -> BitemporalFeatures:
        need = max(max(v) for v in self.stream_channels.values()) + 1
        if x.dim() != 4 or x.shape[1] < need:
            raise ConfigError(f'SiameseEncoder: stream_channels={self.stream_channels} need an '
                              f'(N, >={need}, H, W) input, got {tuple(x.shape)}; match the '
                              f"dataset's stream_layout / bands")
        pre, post = self._take(x, 'pre'), self._take(x, 'post')
        dem = self._take(x, 'dem') if 'dem' in self.stream_channels else None
        if dem is not None and self.dem_encoder is None:
            pre, post = torch.cat([pre, dem], 1), torch.cat([post, dem], 1)
        feats = self._encode(torch.cat([pre, post], 0))
        n = x.shape[0]
        dem_feats = tuple(self.dem_encoder(dem)) if self.dem_encoder is not None else None
        return BitemporalFeatures(tuple(f[:n] for f in feats), tuple(f[n:] for f in feats),
                                  dem_feats)
