"""One place to read weights: load a file safely, clean its state dict, check it fits a model.

The loading is :func:`lszoo.engine.checkpoint.load_checkpoint_file` (``weights_only`` plus the
few globals mmengine checkpoints need). Cleaning follows timm's ``clean_state_dict`` /
``checkpoint_filter_fn`` idea (unwrap, strip ``module.``, keep one prefix); the fit check is the
only one in lszoo, used by scene inference, ``tools/test.py`` and the pretrained encoders.
"""
from collections.abc import Mapping
from typing import Dict, Optional, Sequence, Union

import torch

from lszoo.engine.checkpoint import load_checkpoint_file
from lszoo.errors import CheckpointError

WRAPPER_KEYS = ('state_dict', 'model', 'module')


def clean_state_dict(checkpoint: Mapping, prefix: Optional[str] = None,
                     wrappers: Sequence[str] = WRAPPER_KEYS) -> Dict[str, object]:
    """The state dict of ``checkpoint``: the first of ``wrappers`` that holds a dict is unwrapped,
    ``module.`` (DDP) prefixes are stripped, and with ``prefix`` only keys under it are kept,
    without it (e.g. ``'backbone.'`` to take an encoder out of a whole-model checkpoint)."""
    for key in wrappers:
        if isinstance(checkpoint.get(key), Mapping):
            checkpoint = checkpoint[key]
            break
    out = {}
    for k, v in checkpoint.items():
        if k.startswith('module.'):
            k = k[len('module.'):]
        if prefix:
            if not k.startswith(prefix):
                continue
            k = k[len(prefix):]
        out[k] = v
    return out


def load_state_dict(path, prefix: Optional[str] = None,
                    wrappers: Sequence[str] = WRAPPER_KEYS) -> Dict[str, object]:
    """Load ``path`` safely and return its cleaned state dict (see :func:`clean_state_dict`)."""
    return clean_state_dict(load_checkpoint_file(path, map_location='cpu'), prefix, wrappers)


def _shape(v):
    return tuple(v.shape) if hasattr(v, 'shape') else None


def check_state_dict_fits(state: Mapping, model: Union[torch.nn.Module, Mapping], source: str,
                          target: str, allow_unexpected: bool = False, hint: str = '') -> None:
    """Raise :class:`CheckpointError` unless ``state`` holds every tensor of ``model`` (a module
    or its state dict) with the same shape and, unless ``allow_unexpected``, nothing else.

    The message reads ``'<source>: does not fit <target>: <n> shape mismatch(es), e.g. ...;
    <n> of the model's <N> tensors missing, e.g. ...; <n> unexpected key(s), e.g. ...<hint>'``,
    naming at most three keys of each kind.
    """
    own = model.state_dict() if isinstance(model, torch.nn.Module) else model
    wrong = [f'{k} {_shape(state[k])} in the checkpoint vs {_shape(v)} in the model'
             for k, v in own.items() if k in state and _shape(state[k]) != _shape(v)]
    missing = [k for k in own if k not in state]
    unexpected = [] if allow_unexpected else [k for k in state if k not in own]
    problems = []
    if wrong:
        problems.append(f'{len(wrong)} shape mismatch(es), e.g. ' + '; '.join(wrong[:3]))
    if missing:
        problems.append(f"{len(missing)} of the model's {len(own)} tensors missing, e.g. "
                        + ', '.join(missing[:3]))
    if unexpected:
        problems.append(f'{len(unexpected)} unexpected key(s), e.g. ' + ', '.join(unexpected[:3]))
    if problems:
        raise CheckpointError(f'{source}: does not fit {target}: ' + '; '.join(problems) + hint)


def load_weights(model: torch.nn.Module, path, target: str, prefix: Optional[str] = None,
                 hint: str = '') -> None:
    """Load the weights file ``path`` into ``model`` strictly, after :func:`check_state_dict_fits`
    has explained any mismatch."""
    state = load_state_dict(path, prefix)
    check_state_dict_fits(state, model, str(path), target, hint=hint)
    model.load_state_dict(state, strict=True)
