"""ConvNeXt V2 encoder (timm) for any input channel count, with local checkpoint loading.

Woo et al., "ConvNeXt V2: Co-designing and Scaling ConvNets with Masked Autoencoders", CVPR 2023
(arXiv:2301.00808). GeoNeXt uses the tiny model as its encoder. The network is timm's
``convnextv2_<arch>`` built with ``features_only=True`` (four maps at strides 4, 8, 16, 32, no
extra norms); this wrapper adds what timm's own ``pretrained`` path does not do offline: loading a
local file in timm's format or in the original ConvNeXt V2 release format (``{'model': ...}`` with
``downsample_layers`` / ``dwconv`` / ``pwconv`` / ``grn.gamma`` keys), through lszoo's safe
loader, and adapting the stem convolution to the input channel count.
"""
import re
from collections import OrderedDict
from typing import Optional, Sequence

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from lszoo.errors import CheckpointError, ConfigError
from lszoo.utils.checkpoint import check_state_dict_fits, clean_state_dict
from .timm_pretrained import (check_overlay_file, create_timm_model,
                              load_timm_pretrained, read_weights_file)

ARCHS = ('atto', 'femto', 'pico', 'nano', 'tiny', 'small', 'base', 'large', 'huge')
STEM_KEY = 'stem_0.weight'


def _to_feature_key(key: str) -> str:
    """timm full-model key -> ``features_only`` key ('stem.0.x' -> 'stem_0.x', 'stages.2.x' ->
    'stages_2.x')."""
    return re.sub(r'^(stem|stages)\.(\d+)\.', r'\1_\2.', key)


def _to_full_key(key: str) -> str:
    return re.sub(r'^(stem|stages)_(\d+)\.', r'\1.\2.', key)


class _ShapeReference:
    """Stands in for the full timm model in timm's ``checkpoint_filter_fn`` (it only reads
    ``state_dict()[key].shape``), so no second full model has to be built."""

    def __init__(self, features_model: torch.nn.Module):
        self._sd = {_to_full_key(k): v for k, v in features_model.state_dict().items()}

    def state_dict(self):
        return self._sd


def adapt_stem_weight(weight: torch.Tensor, in_channels: int, mode: str = 'repeat',
                      rgb_channels: Optional[Sequence[int]] = None) -> torch.Tensor:
    """Adapt a 3-channel (RGB) stem weight ``(O, 3, k, k)`` to ``in_channels`` inputs.

    - ``rgb_channels`` given (e.g. ``(3, 2, 1)`` for L4S's B4, B3, B2): those input channels get
      the R, G, B weights unchanged and every other channel the mean of the three (a band that
      looks like "brightness"), all scaled by ``3 / in_channels`` so that an image whose bands
      are all alike keeps the pretrained activation scale.
    - ``mode='repeat'``: timm's rule (``adapt_input_conv``): tile R, G, B, R, G, B, ... and scale
      by ``3 / in_channels``; one channel gets the sum of the three.
    - ``mode='mean'``: every channel gets the mean RGB weight, scaled by ``3 / in_channels``.
    """
    out_ch, src_ch = weight.shape[:2]
    if src_ch == in_channels and rgb_channels is None:
        return weight
    if src_ch != 3:
        raise ConfigError(f'cannot adapt a stem with {src_ch} input channels to {in_channels}: '
                          'only 3-channel (RGB) checkpoints are adapted')
    mean = weight.float().mean(dim=1, keepdim=True)
    scale = 3.0 / in_channels
    if rgb_channels is not None:
        rgb_channels = list(rgb_channels)
        if len(rgb_channels) != 3 or any(not 0 <= c < in_channels for c in rgb_channels):
            raise ConfigError(f'rgb_channels={rgb_channels} must be three indices below '
                              f'in_channels={in_channels}')
        new = mean.repeat(1, in_channels, 1, 1)
        for src, dst in enumerate(rgb_channels):
            new[:, dst] = weight[:, src].float()
        return (new * scale).to(weight.dtype)
    if mode == 'repeat':
        from timm.models import adapt_input_conv
        return adapt_input_conv(in_channels, weight)
    if mode == 'mean':
        return (mean.repeat(1, in_channels, 1, 1) * scale).to(weight.dtype)
    raise ConfigError(f"stem_adapt='{mode}' is not one of 'repeat', 'mean'")


@MODELS.register_module()
class ConvNeXtV2Encoder(BaseModule):
    """timm ConvNeXt V2 (``features_only``) for N-band input; outputs maps at strides 4-32.

    Args:
        arch: 'atto', 'femto', 'pico', 'nano', 'tiny', 'small', 'base', 'large' or 'huge' (or a
            full timm name ``convnextv2_*``).
        in_channels: input channels (3 for RGB, 14 for Landslide4Sense, ...).
        out_indices: which of the four stages to return.
        pretrained: start from timm's pretrained weights ``convnextv2_<arch>.<pretrained_tag>``
            (downloaded and cached by timm, loaded in ``init_weights``, i.e. when training
            starts; testing never downloads). Offline, give the same weights as ``checkpoint``
            (or ``pretrained_cfg_overlay=dict(file=...)``); a download that fails stops with
            one line naming the weights, where they come from and that alternative.
        pretrained_tag: timm pretrained tag, e.g. 'fcmae_ft_in22k_in1k' (GeoNeXt's: FCMAE
            pre-training, ImageNet-22k then 1k fine-tuning); None: timm's default tag.
        pretrained_cfg_overlay: passed to timm, e.g. ``dict(file='/path/weights.safetensors')``.
        checkpoint: local weights file (used instead of a download when given): a timm
            ``state_dict`` (optionally under 'state_dict' or
            'model', keys may carry a 'module.' / ``checkpoint_prefix`` prefix) or the original
            ConvNeXt V2 release (``{'model': ...}``). Classifier head weights are dropped.
        checkpoint_prefix: prefix to strip from every key first (e.g. 'backbone.model.' to take
            the encoder out of an lszoo/mmseg checkpoint).
        stem_adapt / rgb_channels: how an RGB stem is adapted to ``in_channels`` (see
            :func:`adapt_stem_weight`).
        drop_path_rate: stochastic depth.
    """

    def __init__(self,
                 arch: str = 'tiny',
                 in_channels: int = 3,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 pretrained: bool = False,
                 checkpoint: Optional[str] = None,
                 checkpoint_prefix: Optional[str] = None,
                 stem_adapt: str = 'repeat',
                 rgb_channels: Optional[Sequence[int]] = None,
                 drop_path_rate: float = 0.0,
                 pretrained_tag: Optional[str] = None,
                 pretrained_cfg_overlay: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        name = arch if arch.startswith('convnextv2_') else f'convnextv2_{arch}'
        if name[len('convnextv2_'):] not in ARCHS:
            raise ConfigError(f"ConvNeXtV2Encoder: arch='{arch}' is not one of {ARCHS}")
        self.arch_name = name
        self.in_channels = in_channels
        self.timm_name = f'{name}.{pretrained_tag}' if pretrained_tag else name
        self._timm_kwargs = dict(features_only=True, in_chans=in_channels,
                                 out_indices=tuple(out_indices))
        # the tag only matters for the download (timm rejects tags an arch does not have)
        self.model = create_timm_model(self.timm_name if pretrained else name,
                                       'ConvNeXtV2Encoder',
                                       'model.backbone.checkpoint',
                                       drop_path_rate=drop_path_rate, **self._timm_kwargs)
        # downloaded in init_weights (when training starts), unless a local file is given
        self.pretrained = bool(pretrained) and not checkpoint
        self.pretrained_cfg_overlay = pretrained_cfg_overlay
        if self.pretrained:
            check_overlay_file('ConvNeXtV2Encoder', pretrained_cfg_overlay)
        self.out_channels = self.model.feature_info.channels()
        self.stem_adapt = stem_adapt
        self.rgb_channels = rgb_channels
        if checkpoint:
            self.load_checkpoint(checkpoint, prefix=checkpoint_prefix)

    def convert_state_dict(self, state_dict: dict, source: str = '<state_dict>',
                           prefix: Optional[str] = None) -> 'OrderedDict[str, torch.Tensor]':
        """Turn a timm / ConvNeXt V2 release / wrapped state dict into this encoder's keys."""
        from timm.models.convnext import checkpoint_filter_fn
        if not isinstance(state_dict, dict):
            raise CheckpointError(f'{source}: expected a dict of weights, got '
                                  f'{type(state_dict).__name__}')
        cleaned = {_to_full_key(k): v for k, v in clean_state_dict(
            state_dict, prefix, wrappers=('state_dict', 'model')).items()}
        if not any(k in cleaned for k in ('stem.0.weight', 'downsample_layers.0.0.weight')):
            where = f" under prefix '{prefix}'" if prefix else ''
            raise CheckpointError(f'{source}: not a ConvNeXt V2 checkpoint: no stem weights '
                                  f"('stem.0.weight' or 'downsample_layers.0.0.weight'){where}")
        cleaned = {k: v for k, v in cleaned.items() if isinstance(v, torch.Tensor)}
        try:
            cleaned = checkpoint_filter_fn(cleaned, _ShapeReference(self.model))
        except (KeyError, RuntimeError) as err:
            raise CheckpointError(f'{source}: not a ConvNeXt V2 checkpoint of {self.arch_name} '
                                  f'({err})') from err
        out = OrderedDict()
        for k, v in cleaned.items():
            if k.startswith(('head.', 'norm_pre.')):
                continue
            out[_to_feature_key(k)] = v
        if STEM_KEY in out:
            out[STEM_KEY] = adapt_stem_weight(out[STEM_KEY], self.in_channels, self.stem_adapt,
                                              self.rgb_channels)
        return out

    def load_checkpoint(self, path: str, prefix: Optional[str] = None) -> None:
        """Load a local weights file (see the class doc); raises CheckpointError on mismatch."""
        state = self.convert_state_dict(read_weights_file(path), source=str(path),
                                        prefix=prefix)
        check_state_dict_fits(state, self.model, str(path),
                              f'{self.arch_name} (in_channels={self.in_channels})')
        self.model.load_state_dict(state, strict=True)
        self._loaded_from = str(path)

    def init_weights(self):
        """Load timm's pretrained weights when ``pretrained`` (mmengine's runner calls this when
        training starts); otherwise keep timm's initialisation or the ``checkpoint`` loaded at
        construction."""
        if self.pretrained:
            load_timm_pretrained(self.model, self.timm_name, 'ConvNeXtV2Encoder',
                                 'model.backbone.checkpoint', self.pretrained_cfg_overlay,
                                 **self._timm_kwargs)
        elif self.init_cfg:
            super().init_weights()

    def forward(self, x: torch.Tensor):
        return tuple(self.model(x))
