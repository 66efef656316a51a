"""Several necks in a row (mmseg's ``EncoderDecoder`` takes one).

A bi-temporal DiGATe-UNet fuses the dates first (:class:`TemporalFusionNeck`) and then the
change stream with the topography stream (:class:`GatedFusionNeck`); this runs them in order,
each neck's ``'auto'`` widths filled from the one before.
"""
from typing import Sequence

import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.registry import MODELS

from lszoo.errors import ConfigError
from lszoo.models.segmentors.auto_width_encoder_decoder import (AUTO, check_widths_resolved,
                                                                feature_widths,
                                                                resolve_widths)


@MODELS.register_module()
class NeckSequence(BaseModule):
    """Run ``necks`` in order on the encoder's output.

    Args:
        in_channels: the encoder's widths, or ``'auto'`` (filled by
            ``AutoWidthEncoderDecoder``); passed on to every neck whose ``in_channels`` is
            ``'auto'`` or missing, as the widths of the neck before it.
        necks: neck configs.

    ``out_channels``: the widths of the last neck.
    """

    def __init__(self, in_channels: Sequence[int], necks: Sequence[dict], init_cfg=None):
        super().__init__(init_cfg)
        check_widths_resolved('NeckSequence', in_channels)
        if not necks:
            raise ConfigError('NeckSequence: necks is empty')
        widths = [int(c) for c in in_channels]
        built = []
        for i, cfg in enumerate(necks):
            cfg = dict(cfg)
            cfg.setdefault('in_channels', AUTO)
            neck = MODELS.build(resolve_widths(cfg, widths, f'model.neck.necks[{i}]'))
            widths = feature_widths(neck)
            built.append(neck)
        self.necks = nn.ModuleList(built)
        self.in_channels = [int(c) for c in in_channels]
        self.out_channels = widths

    def forward(self, inputs):
        for neck in self.necks:
            inputs = neck(inputs)
        return inputs
