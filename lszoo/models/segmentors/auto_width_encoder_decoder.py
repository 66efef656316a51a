"""``AutoWidthEncoderDecoder``: mmseg's ``EncoderDecoder`` whose neck and heads take their input
widths from the encoder.

A timm encoder's level widths depend on its name (resnet18: 64, 64, 128, 256, 512;
efficientnet_b0: 16, 24, 40, 112, 320; convnextv2_atto: 40, 80, 160, 320), and mmseg builds the
backbone, neck and heads from separate config dicts, so every head's ``in_channels`` had to be
copied by hand. Here a neck, decode head or auxiliary head whose ``in_channels`` is ``'auto'``
(or left out) gets the widths of the part built before it: the neck those of the backbone, the
heads those of the neck (or of the backbone when there is no neck), picked by the head's
``in_index`` (an int gives one width, a list a list; no ``in_index`` gives all levels).
Explicit widths are used unchanged. The state dict is the same as ``EncoderDecoder``'s.

``cpu_channels_last=True`` hands CPU inputs to the encoder in channels-last layout, the one
oneDNN's convolutions run fastest in (about 10 % less time per training step of the timm U-Net
here, docs/performance.md); results are the same up to float rounding, GPU runs are untouched.
"""
import inspect
from typing import List, Optional

import torch

from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.models.segmentors.encoder_decoder import EncoderDecoder
from mmseg.registry import MODELS

from lszoo.errors import ConfigError

AUTO = 'auto'


def check_widths_resolved(owner: str, in_channels) -> None:
    """Raise a ConfigError when ``'auto'`` widths reach a module unresolved (a model built as
    plain ``EncoderDecoder``, or a head built on its own)."""
    if in_channels is None or isinstance(in_channels, str):
        raise ConfigError(
            f"{owner}: in_channels={in_channels!r} is not resolved; 'auto' is filled from the "
            f"encoder by model type 'AutoWidthEncoderDecoder' (set model.type to it, or give "
            f"the widths explicitly)")


def feature_widths(module) -> List[int]:
    """Widths of the maps a built backbone or neck returns, shallow to deep.

    Read from its ``out_channels`` list (lszoo encoders and necks), else from timm's
    ``feature_info`` (of mmseg's ``TIMMBackbone.timm_model`` or of a timm model itself).
    """
    out = getattr(module, 'out_channels', None)
    if isinstance(out, (list, tuple)) and out and all(isinstance(c, int) for c in out):
        return [int(c) for c in out]
    for owner in (getattr(module, 'timm_model', None), module):
        info = getattr(owner, 'feature_info', None)
        if info is not None and callable(getattr(info, 'channels', None)):
            return [int(c) for c in info.channels()]
    raise ConfigError(f"in_channels='auto': cannot tell the output widths of "
                      f'{type(module).__name__} (it has neither an out_channels list nor timm '
                      f'feature_info); give in_channels explicitly')


def _accepts_in_channels(cfg: dict) -> bool:
    cls = MODELS.get(cfg.get('type')) if isinstance(cfg.get('type'), str) else cfg.get('type')
    if cls is None:
        return True  # let the registry report the unknown type
    params = inspect.signature(cls.__init__).parameters
    return 'in_channels' in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def resolve_widths(cfg: Optional[dict], widths: List[int], where: str):
    """A copy of a part's config with ``'auto'`` / missing ``in_channels`` filled from
    ``widths``; other configs are returned unchanged."""
    if cfg is None or not isinstance(cfg, dict):
        return cfg
    if cfg.get('in_channels', AUTO) != AUTO or not _accepts_in_channels(cfg):
        return cfg
    cfg = cfg.copy()
    index = cfg.get('in_index')
    try:
        if index is None:
            cfg['in_channels'] = list(widths)
        elif isinstance(index, int):
            cfg['in_channels'] = widths[index]
        else:
            cfg['in_channels'] = [widths[i] for i in index]
    except (IndexError, TypeError):
        raise ConfigError(f'{where}: in_index={index!r} does not fit the {len(widths)} maps of '
                          f'widths {widths} that the encoder gives') from None
    return cfg


@MODELS.register_module()
class AutoWidthEncoderDecoder(EncoderDecoder):
    """``EncoderDecoder`` that fills ``in_channels='auto'`` of its neck and heads at build time.

    Same arguments as mmseg's ``EncoderDecoder``. The parts are built in the same order as
    there (backbone, neck, decode head, auxiliary heads), each after the one it reads from.
    """

    def __init__(self, backbone, decode_head, neck=None, auxiliary_head=None, train_cfg=None,
                 test_cfg=None, data_preprocessor=None, pretrained=None, init_cfg=None,
                 cpu_channels_last: bool = False):
        # EncoderDecoder.__init__ builds the neck and heads from their configs before any
        # width is known, so this calls BaseSegmentor's and builds the parts itself.
        BaseSegmentor.__init__(self, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if pretrained is not None:
            if backbone.get('pretrained') is not None:
                raise ConfigError('both model.backbone.pretrained and model.pretrained are set')
            backbone = dict(backbone, pretrained=pretrained)
        self.backbone = MODELS.build(backbone)
        widths = None
        if neck is not None:
            widths = feature_widths(self.backbone) if self._wants(neck) else None
            self.neck = MODELS.build(resolve_widths(neck, widths, 'model.neck')
                                     if widths else neck)
        heads = [decode_head] + (auxiliary_head if isinstance(auxiliary_head, list)
                                 else [auxiliary_head])
        if any(self._wants(h) for h in heads):
            widths = feature_widths(self.neck if self.with_neck else self.backbone)
            decode_head = resolve_widths(decode_head, widths, 'model.decode_head')
            if isinstance(auxiliary_head, list):
                auxiliary_head = [resolve_widths(h, widths, f'model.auxiliary_head[{i}]')
                                  for i, h in enumerate(auxiliary_head)]
            else:
                auxiliary_head = resolve_widths(auxiliary_head, widths, 'model.auxiliary_head')
        self._init_decode_head(decode_head)
        self._init_auxiliary_head(auxiliary_head)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self.cpu_channels_last = bool(cpu_channels_last)
        if not self.with_decode_head:
            raise ConfigError('AutoWidthEncoderDecoder: model.decode_head is required')

    def extract_feat(self, inputs):
        """The encoder's (and neck's) features; CPU inputs channels-last when asked."""
        if (self.cpu_channels_last and inputs.dim() == 4 and inputs.device.type == 'cpu'
                and not torch.jit.is_tracing() and not torch.onnx.is_in_onnx_export()):
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        return super().extract_feat(inputs)

    @staticmethod
    def _wants(cfg) -> bool:
        return (isinstance(cfg, dict) and cfg.get('in_channels', AUTO) == AUTO
                and _accepts_in_channels(cfg))
