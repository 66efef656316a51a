"""Shared steps of the reference -> lszoo converters: unwrap a checkpoint, rename by rules, save."""
import os
import re
from collections import OrderedDict
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import torch

from lszoo.errors import CheckpointError
from lszoo.utils.checkpoint import clean_state_dict, load_checkpoint_file
from lszoo.utils.fileio import atomic_path

# (pattern, replacement) pairs, replacement a re.sub template or function; first full match wins
Rule = Tuple[str, Union[str, Callable]]


def reference_state_dict(ckpt, source: str = '<checkpoint>', use_ema: bool = False) -> dict:
    """The state dict inside a checkpoint saved by a reference training script.

    Accepts a bare state dict or one wrapped under 'state_dict' / 'model' /
    'model_state_dict', with or without a DataParallel 'module.' prefix. ``use_ema`` takes the
    parameters from an EMA shadow saved next to it (GeoNeXt's reference saves
    ``{'ema': {'shadow': {name: tensor}}}``: parameters only, buffers come from the model).
    """
    if not isinstance(ckpt, dict):
        raise CheckpointError(f'{source}: expected a dict of tensors, got {type(ckpt).__name__}')
    state = OrderedDict((k, v) for k, v in clean_state_dict(
        ckpt, wrappers=('state_dict', 'model_state_dict', 'model')).items()
        if isinstance(v, torch.Tensor))
    if not state:
        raise CheckpointError(f'{source}: holds no tensors (not a model checkpoint)')
    if use_ema:
        shadow = (ckpt.get('ema') or {}).get('shadow') if isinstance(ckpt.get('ema'), dict) \
            else None
        if not isinstance(shadow, dict):
            raise CheckpointError(f"{source}: --ema asked for, but the checkpoint has no "
                                  "'ema' entry with a 'shadow' dict")
        unknown = [k for k in shadow if k not in state]
        if unknown:
            raise CheckpointError(f'{source}: EMA shadow names not in the state dict: '
                                  f'{unknown[:3]}')
        state.update((k, v) for k, v in shadow.items())
    return state


def rename_keys(state: Dict[str, torch.Tensor], rules: Sequence[Rule], source: str,
                model: str, transform: Optional[Callable] = None) -> 'OrderedDict':
    """Rename every key by the first rule whose pattern matches it as a whole.

    A key no rule matches is an error (a checkpoint of another model, or another version of the
    reference), named with the file. ``transform(new_key, tensor)`` may reshape values.
    """
    compiled = [(re.compile(p), r) for p, r in rules]
    out = OrderedDict()
    unknown = []
    for key, value in state.items():
        for pattern, repl in compiled:
            match = pattern.fullmatch(key)
            if match:
                new = repl(match) if callable(repl) else match.expand(repl)
                out[new] = transform(new, value) if transform else value
                break
        else:
            unknown.append(key)
    if unknown:
        raise CheckpointError(f'{source}: {len(unknown)} key(s) are not {model} reference '
                              f'names, e.g. {unknown[:3]}')
    return out


def save_lszoo_checkpoint(state: dict, path: str, meta: Optional[dict] = None) -> None:
    """Save ``{'meta': ..., 'state_dict': state}`` (mmengine's layout), written atomically."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save({'meta': dict(meta or {}), 'state_dict': state}, tmp)


def convert_checkpoint_file(src: str, dst: str, convert: Callable, reference: str,
                            use_ema: bool = False) -> int:
    """Load ``src`` (lszoo's safe loader), unwrap, ``convert`` and save to ``dst``.

    Returns the number of tensors written. Used by ``tools/model_converters/*2lszoo.py``.
    """
    ckpt = load_checkpoint_file(src, map_location='cpu')
    out = convert(reference_state_dict(ckpt, src, use_ema=use_ema), src)
    save_lszoo_checkpoint(out, dst, meta=dict(converted_from=os.path.abspath(src),
                                              reference=reference, ema=use_ema))
    return len(out)
