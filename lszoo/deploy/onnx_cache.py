"""Exported ONNX graphs cached per checkpoint, so that CPU scene mapping runs in ONNX Runtime
without an export step by the user.

An entry is the graph :func:`~lszoo.deploy.onnx_export.export_onnx` writes (normalisation,
segmentor, landslide probability; checked against PyTorch on export), with a fixed square tile
and a dynamic batch. Its key covers everything that changes the graph: the checkpoint's SHA-256,
the config (hash of its JSON dump), the tile size, the opset, torch's version (the exporter),
the temperature calibrated beside the checkpoint (folded into the graph) and
:data:`CACHE_VERSION`. The entry lies beside the checkpoint (``<checkpoint>.<key16>.onnx``) when
that folder is writable, else in ``$LSZOO_CACHE/onnx`` (default ``~/.cache/lszoo/onnx``).

Writes are atomic (:func:`lszoo.utils.fileio.atomic_path`): processes building one entry at once
each export to their own temporary file and rename it over the entry, so a reader sees no file or
a whole one, and every builder succeeds. An entry that does not load, or whose stored key differs,
is rebuilt (and said so), never used.
"""
import json
import os
import os.path as osp
import warnings
from typing import Callable, Dict, Optional, Tuple

import torch

from lszoo.errors import ConfigError
from lszoo.utils.fileio import sha256_file, sha256_text
from .onnx_export import DEFAULT_OPSET, DeepnessScaleWarning, export_onnx
from .onnx_predictor import OnnxTileModel

CACHE_VERSION = 1  # bump when export_onnx's graph changes for the same inputs
KEY_FIELD = 'lszoo_cache_key'
_LOADED: Dict[Tuple[str, str, Optional[int]], OnnxTileModel] = {}  # sessions of this process


def config_digest(cfg) -> str:
    """SHA-256 of ``cfg``'s JSON dump (keys sorted; values JSON cannot hold as their repr)."""
    data = cfg.to_dict() if hasattr(cfg, 'to_dict') else dict(cfg)
    return sha256_text(json.dumps(data, sort_keys=True, default=repr))


def cache_key(checkpoint: str, cfg, tile: int, opset: int = DEFAULT_OPSET,
              temperature: Optional[float] = None) -> str:
    """The hex key of the graph of ``checkpoint`` + ``cfg`` at ``tile`` x ``tile`` with
    ``temperature`` folded in (a recalibration beside the checkpoint gives a new entry)."""
    parts = dict(version=CACHE_VERSION, checkpoint=sha256_file(checkpoint),
                 config=config_digest(cfg), tile=int(tile), opset=int(opset),
                 dynamic_hw=False, dynamic_batch=True, torch=torch.__version__,
                 temperature=None if temperature is None else float(temperature))
    return sha256_text(json.dumps(parts, sort_keys=True))


def cache_dir(checkpoint: str) -> str:
    """The checkpoint's folder when writable, else ``$LSZOO_CACHE/onnx`` or
    ``~/.cache/lszoo/onnx``."""
    folder = osp.dirname(osp.abspath(checkpoint))
    if os.access(folder, os.W_OK | os.X_OK):
        return folder
    root = os.environ.get('LSZOO_CACHE') or osp.join(osp.expanduser('~'), '.cache', 'lszoo')
    return osp.join(root, 'onnx')


def entry_path(checkpoint: str, key: str) -> str:
    """Where the entry of ``key`` for ``checkpoint`` lives."""
    return osp.join(cache_dir(checkpoint), f'{osp.basename(checkpoint)}.{key[:16]}.onnx')


def load_entry(path: str, key: str, tile: int,
               threads: Optional[int] = None) -> Tuple[Optional[OnnxTileModel], str]:
    """``(model, '')`` for a usable entry; ``(None, why)`` otherwise (``why`` empty when there
    is no entry at all)."""
    if not osp.isfile(path):
        return None, ''
    try:
        model = OnnxTileModel(path, threads)
    except Exception as err:  # truncated, not ONNX, unreadable: rebuilt, whatever the cause
        return None, str(err).splitlines()[0][:200]
    if model.metadata.get(KEY_FIELD) != key:
        return None, 'its stored key differs from the expected one'
    if model.fixed_size != tile:
        return None, f'it takes {model.fixed_size}-pixel tiles, not {tile}'
    return model, ''


def build_entry(segmentor, cfg, path: str, key: str, tile: int,
                temperature: Optional[float] = None) -> None:
    """Export ``segmentor`` (with ``cfg``, ``temperature`` folded in) to the entry ``path``
    atomically."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with warnings.catch_warnings():  # Deepness's input range does not concern this graph
        warnings.simplefilter('ignore', DeepnessScaleWarning)
        export_onnx(segmentor, cfg, path, tile_size=tile, overlap=0, temperature=temperature,
                    extra_metadata={KEY_FIELD: json.dumps(key)})


def cached_tile_model(segmentor, cfg, checkpoint: str, tile: int,
                      threads: Optional[int] = None,
                      log: Callable[[str], None] = print,
                      temperature: Optional[float] = None) -> OnnxTileModel:
    """The ONNX Runtime tile model of ``segmentor`` (built from ``checkpoint`` and ``cfg``) at
    ``tile`` x ``tile`` with ``temperature`` (the caller's resolved one, e.g. map_scene's)
    folded in: from the cache, else exported into it first. An unusable entry is
    rebuilt and ``log`` says so in one line. Sessions are reused within the process."""
    if not checkpoint or not osp.isfile(checkpoint):
        raise ConfigError(f'the ONNX cache needs the checkpoint file (got {checkpoint!r})')
    key = cache_key(checkpoint, cfg, tile, temperature=temperature)
    path = entry_path(checkpoint, key)
    memo = (path, key, threads)
    if memo in _LOADED and osp.isfile(path):
        _LOADED[memo].built = False
        return _LOADED[memo]
    model, why = load_entry(path, key, tile, threads)
    built = model is None
    if model is None:
        if why:
            log(f'lszoo: ONNX cache entry {path} is unusable ({why}); rebuilding it')
        build_entry(segmentor, cfg, path, key, tile, temperature)
        model, why = load_entry(path, key, tile, threads)
        if model is None:
            raise ConfigError(f'the ONNX graph just exported to {path} does not load ({why})')
    model.built = built  # exported by this call
    _LOADED[memo] = model
    return model
