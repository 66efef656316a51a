"""The one decision-threshold resolver of testing, scene mapping and ONNX export.

Precedence: a threshold given explicitly; an ONNX model's own (``seg_thresh``, fixed at export);
the threshold calibrated beside the checkpoint (:func:`lszoo.evaluation.calibration
.calibrate_threshold`) unless the config sets ``use_calibrated_threshold = False`` (the paper
configs keep their papers' thresholds); else the model's own: a one-channel head's
``threshold``, 0.5 for a two-channel (softmax) head.

:func:`resolve_temperature` resolves the temperature of the landslide logits the same way
(explicit; folded into an ONNX graph at export, hence not applied again; fitted beside the
checkpoint; else none); :func:`lszoo.models.decode_heads.temperature.set_temperature` applies it.
A calibration's threshold is on the probability its temperature gives.
"""
import os.path as osp
from typing import Optional, Tuple

import torch

from lszoo.errors import ConfigError

from .calibration import calibration_path, load_calibration


def _unwrap(model):
    while isinstance(getattr(model, 'module', None), torch.nn.Module):  # DDP / TTA wrappers
        model = model.module
    return model


def is_exported_model(model) -> bool:
    """Whether ``model`` is an exported tile model (not a torch module) with its own
    threshold, e.g. :class:`lszoo.deploy.onnx_predictor.OnnxTileModel`."""
    return (model is not None and not isinstance(model, torch.nn.Module)
            and getattr(model, 'threshold', None) is not None)


def model_threshold(model) -> float:
    """The model's own threshold on the landslide probability."""
    if is_exported_model(model):
        return float(model.threshold)
    head = getattr(_unwrap(model), 'decode_head', None)
    if head is not None and getattr(head, 'out_channels', 2) == 1:
        return float(getattr(head, 'threshold', None) or 0.5)
    return 0.5


def resolve_threshold(model=None, cfg=None, checkpoint: Optional[str] = None,
                      override: Optional[float] = None) -> Tuple[Optional[float], str]:
    """``(threshold, source)`` for ``model`` (a segmentor, an exported tile model, or ``None``
    when it is not built yet) with its config ``cfg`` and weights file ``checkpoint``.

    ``source`` says where the value comes from, for logs and STAC / ONNX metadata. With
    ``model=None`` and neither an override nor a calibration, the threshold is ``None``: the
    model's own, once built.
    """
    if override is not None:
        return float(override), 'given explicitly'
    if is_exported_model(model):
        return float(model.threshold), f'stored in {osp.basename(getattr(model, "path", ""))}'
    if cfg is not None and not cfg.get('use_calibrated_threshold', True):
        source = "the config's own, use_calibrated_threshold = False"
    elif checkpoint:
        info = load_calibration(checkpoint)
        if info is not None:
            f1 = 100 * float(info.get('F1', float('nan')))
            return float(info['threshold']), (
                f'calibrated on {info.get("split", "val")}, F1 {f1:.2f}, stored in '
                f'{calibration_path(checkpoint)}')
        source = "the model's own, no calibration beside the checkpoint"
    else:
        source = "the model's own"
    return (None if model is None else model_threshold(model)), source


def resolve_temperature(model=None, cfg=None, checkpoint: Optional[str] = None,
                        override: Optional[float] = None) -> Tuple[Optional[float], str]:
    """``(temperature, source)``: what to divide ``model``'s landslide logits by (``None``:
    nothing), with the same precedence and arguments as :func:`resolve_threshold`. An exported
    model has its temperature folded into the graph: ``None``, the source names it."""
    if override is not None:
        if not float(override) > 0:
            raise ConfigError(f'temperature must be > 0, got {override}')
        return float(override), 'given explicitly'
    if is_exported_model(model):
        folded = (getattr(model, 'metadata', None) or {}).get('lszoo_temperature')
        where = osp.basename(getattr(model, 'path', '') or 'the exported model')
        return None, (f'{float(folded):g} folded into {where}' if folded else
                      f'none folded into {where}')
    if cfg is not None and not cfg.get('use_calibrated_threshold', True):
        return None, "none: the config sets use_calibrated_threshold = False"
    info = load_calibration(checkpoint) if checkpoint else None
    if info is not None and info.get('temperature'):
        return float(info['temperature']), (
            f'{calibration_path(checkpoint)} (fitted on {info.get("split", "val")}, NLL '
            f'{float(info.get("nll_before", float("nan"))):.4f} -> '
            f'{float(info.get("nll_after", float("nan"))):.4f})')
    return None, 'none calibrated beside the checkpoint' if checkpoint else 'none'


def temperature_message(temperature: Optional[float], source: str) -> str:
    """The one line that says which temperature is applied, and from where."""
    if temperature is None:
        return f'lszoo: temperature: {source}'
    return f'lszoo: temperature {temperature:g} from {source}'
