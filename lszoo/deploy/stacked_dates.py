"""A change model exported as one raster input: both dates stacked, pre-event bands first.

Deepness (and any tool that reads one raster) feeds a change model one stack of the two dates,
e.g. ``gdalbuildvrt -separate stack.vrt pre.tif post.tif`` (docs/deployment.md). The exported
graph takes that stack and puts the channels back in the config's order
(:class:`~lszoo.deploy.onnx_export.ProbabilityModel`); the metadata written here say which input
channel is which, and ``tools/infer_scene.py --onnx --pre`` reorders its config-ordered tiles by
``lszoo_input_channels`` (:class:`~lszoo.deploy.onnx_predictor.OnnxTileModel`).
"""
import json
from typing import Dict, Optional, Sequence

from lszoo.geo.pre_event import pre_band_name, pre_channels


def date_metadata(cfg, input_order: Optional[Sequence[int]]) -> Dict[str, str]:
    """The ONNX metadata of a stacked-dates input (JSON-encoded); ``{}`` for a single-date
    model. ``lszoo_input_channels[k]``: the config channel that input channel ``k`` is."""
    if input_order is None:
        return {}
    bands = list(cfg.get('bands') or [])
    pre = set(pre_channels(bands, cfg.get('stream_layout')))
    dates = {'pre': [k for k, c in enumerate(input_order) if c in pre],
             'post': [k for k, c in enumerate(input_order) if c not in pre]}
    names = [('pre-event ' + pre_band_name(bands[c])) if c in pre else
             f'post-event {bands[c]}' for c in input_order] if bands else []
    text = ('both dates stacked as channels: the pre-event image\'s bands, then the '
            'post-event image\'s (' + ', '.join(names) + '), raster values as lszoo loads them '
            '(float32), N x C x H x W')
    return {'lszoo_input': json.dumps(text), 'lszoo_input_channels': json.dumps(
        [int(c) for c in input_order]), 'lszoo_input_bands': json.dumps(names),
        'lszoo_dates': json.dumps(dates)}
