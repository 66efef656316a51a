"""Scene mapping with a pre-event image: the checks made before any work.

A change (bi-temporal) config reads a pre-event image beside the post-event ``INPUT``
(``--pre``, ``map_scene(pre=...)``); :mod:`lszoo.geo.pre_event` plans its bands and
:func:`lszoo.geo.reader.on_grid` warps it to the input's grid per window.
"""
from typing import Optional

import torch

from lszoo.config import load_config
from lszoo.errors import ConfigError
from lszoo.geo.pre_event import check_pre_given
from lszoo.geo.reader import check_pre_image


def _config_of(model, cfg):
    """The config that names the bands: ``cfg``, else ``model`` when it is a config."""
    if cfg is not None:
        return load_config(cfg)
    if isinstance(model, torch.nn.Module) or callable(model):
        return None
    return load_config(model)


def check_pair_inputs(model, cfg, input: str, pre: Optional[str]) -> None:
    """Before the model is built and any file written: a change config has its pre-event image
    and a single-date config none (:func:`~lszoo.geo.pre_event.check_pre_given`), and the pre
    image overlaps ``input`` with the same bands (:func:`~lszoo.geo.reader.check_pre_image`).
    Every failure is one :class:`~lszoo.errors.LSZooError` naming the file or option."""
    config = _config_of(model, cfg)
    if config is None:
        if pre is not None:
            raise ConfigError(f'--pre (pre= of map_scene) {pre} needs the config of the model '
                              '(cfg=) to know which channels are pre-event')
        return
    name = getattr(config, 'filename', None)
    check_pre_given(config.get('bands'), config.get('stream_layout'), pre,
                    f'config {name}' if name else 'the config')
    if pre is not None:
        check_pre_image(input, pre)
