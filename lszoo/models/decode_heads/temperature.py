"""Temperature scaling of a segmentor's landslide logits, as one forward hook.

The decode head's classifier (mmseg's ``conv_seg``, which every lszoo head and mmseg's own
heads end in through ``cls_seg``) gets a forward hook that divides its output by ``T``. Every
later step is linear in the logits (sliding-window averaging, bilinear resize) until mmseg's
sigmoid (one channel) or softmax (two channels), so the probabilities become ``sigmoid(z / T)``
or ``softmax(z / T)`` in every path that runs the model: ``predict`` (testing, TTA, scene
mapping) and the ``tensor`` mode an ONNX export traces, where the division is folded into the
graph. ``T`` comes from :func:`lszoo.evaluation.threshold.resolve_temperature`.
"""
from contextlib import contextmanager
from typing import Optional

import torch
from torch import nn

from lszoo.errors import ConfigError

_HANDLE = '_lszoo_temperature_handle'


def _classifier(model: nn.Module, required: bool = True) -> Optional[nn.Module]:
    """The decode head's ``conv_seg`` of ``model`` (DDP / TTA wrappers unwrapped); ``None``
    when there is none and it is not ``required``."""
    while isinstance(getattr(model, 'module', None), nn.Module):
        model = model.module
    head = getattr(model, 'decode_head', None)
    conv = getattr(head, 'conv_seg', None)
    if not isinstance(conv, nn.Module):
        if not required:
            return None
        raise ConfigError(f'temperature scaling needs a decode head with a conv_seg classifier; '
                          f'{type(model).__name__} has {type(head).__name__}')
    return conv


def get_temperature(model: nn.Module) -> Optional[float]:
    """The temperature set on ``model`` (``None``: none, or no classifier to scale)."""
    return getattr(_classifier(model, required=False), '_lszoo_temperature', None)


def set_temperature(model: nn.Module, temperature: Optional[float]) -> None:
    """Divide ``model``'s logits by ``temperature`` from now on; ``None`` removes the scaling.
    Setting it again replaces the previous value (never compounds). A model without a
    ``conv_seg`` classifier is a :class:`ConfigError` unless ``temperature`` is ``None``."""
    conv = _classifier(model, required=temperature is not None)
    if conv is None:
        return
    handle = getattr(conv, _HANDLE, None)
    if handle is not None:
        handle.remove()
        delattr(conv, _HANDLE)
        conv._lszoo_temperature = None
    if temperature is None:
        return
    t = float(temperature)
    if not t > 0 or t != t or t == float('inf'):
        raise ConfigError(f'temperature must be a finite number > 0, got {temperature!r}')

    def scale(module, args, output):
        if isinstance(output, torch.Tensor):
            return output / t
        return type(output)(o / t for o in output)

    setattr(conv, _HANDLE, conv.register_forward_hook(scale))
    conv._lszoo_temperature = t


@contextmanager
def temperature_scaled(model: nn.Module, temperature: Optional[float]):
    """:func:`set_temperature` for the ``with`` block; the previous state comes back after.
    ``temperature=None`` leaves ``model`` untouched."""
    if temperature is None:
        yield model
        return
    before = get_temperature(model)
    set_temperature(model, temperature)
    try:
        yield model
    finally:
        set_temperature(model, before)
