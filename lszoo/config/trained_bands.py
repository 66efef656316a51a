"""The bands a checkpoint was trained on, compared with the config it is used with.

mmengine's ``Runner.save_checkpoint`` stores the training config's text in ``meta['cfg']``. A
checkpoint of the same architecture trained on other bands (R G B DEM slope, used with a config
reading B2 B3 B4 B8 DEM) loads without a shape error and maps wrong data. The text is read with
:mod:`ast` (only literals and ``dict(...)`` calls are evaluated; nothing in a checkpoint runs),
and the top-level ``bands`` / ``stream_layout`` (else the training dataloader's dataset's) are
compared with the config's before the model is built.
"""
import ast
from collections.abc import Mapping
from typing import Optional, Tuple

from lszoo.errors import ConfigError


class _Unknown:
    """A value the safe reader does not evaluate (a name, a call, an expression)."""


_UNKNOWN = _Unknown()


def _value(node):
    """The Python value of a literal / ``dict(...)`` node; ``_UNKNOWN`` for anything else."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_value(n) for n in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Dict):
        return {_value(k): _value(v) for k, v in zip(node.keys, node.values) if k is not None}
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id == 'dict' and not node.args:
        return {kw.arg: _value(kw.value) for kw in node.keywords if kw.arg}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        v = _value(node.operand)
        return -v if isinstance(v, (int, float)) else _UNKNOWN
    return _UNKNOWN


def config_text_values(text: str) -> dict:
    """Top-level ``name = value`` assignments of a config's text (unevaluable values are
    ``_UNKNOWN``); ``{}`` when the text does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return {}
    out = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], ast.Name):
            out[stmt.targets[0].id] = _value(stmt.value)
    return out


def _bands_of(values) -> Tuple[Optional[list], Optional[dict]]:
    """``(bands, stream_layout)`` of a config (a mapping): the top-level keys, else those of the
    training dataloader's dataset; ``None`` where unknown."""
    def known(v):
        return None if v is None or isinstance(v, _Unknown) else v

    bands, layout = known(values.get('bands')), known(values.get('stream_layout'))
    loader = values.get('train_dataloader')
    ds = loader.get('dataset') if isinstance(loader, Mapping) else None
    if isinstance(ds, Mapping):
        bands = bands if bands is not None else known(ds.get('bands'))
        layout = layout if layout is not None else known(ds.get('stream_layout'))
    if isinstance(bands, (list, tuple)) and all(isinstance(b, str) for b in bands):
        bands = list(bands)
    else:
        bands = None
    if isinstance(layout, Mapping):
        layout = {str(k): list(v) for k, v in layout.items() if isinstance(v, (list, tuple))}
    else:
        layout = None
    return bands, layout


def trained_bands(checkpoint: Mapping) -> Tuple[Optional[list], Optional[dict]]:
    """``(bands, stream_layout)`` of the training config stored in a loaded checkpoint's
    ``meta['cfg']``; ``(None, None)`` when the checkpoint holds no readable config."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, Mapping) else None
    text = meta.get('cfg') if isinstance(meta, Mapping) else None
    if not isinstance(text, str):
        return None, None
    return _bands_of(config_text_values(text))


def check_trained_bands(checkpoint: Mapping, cfg, checkpoint_path: str,
                        config_path: Optional[str] = None) -> None:
    """Raise :class:`ConfigError` when the checkpoint was trained on other bands (or another
    stream layout) than ``cfg`` reads. Nothing is checked where either side does not say."""
    ck_bands, ck_layout = trained_bands(checkpoint)
    bands, layout = _bands_of(cfg)
    where = f'config {config_path}' if config_path else 'the config'
    fix = ('; use the config the model was trained with (or one reading the same bands in the '
           'same order)')
    if ck_bands is not None and bands is not None and ck_bands != [str(b) for b in bands]:
        raise ConfigError(
            f'checkpoint {checkpoint_path} was trained on bands {ck_bands} (its training '
            f'config, stored in the checkpoint) but {where} reads {list(bands)}: the model '
            f'would be fed other data than it learned from{fix}')
    if ck_layout is not None and layout is not None and ck_layout != layout:
        raise ConfigError(
            f'checkpoint {checkpoint_path} was trained with stream_layout {ck_layout} but '
            f'{where} has {layout}: the streams would get other channels{fix}')
