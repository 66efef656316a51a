"""Test-time augmentation over the dihedral group D4 (flips, transposes), averaging probabilities.

An op is a number 0..7 whose bits say: transpose (4), flip rows (2), flip columns (1), applied in
that order; its inverse applies them in the reverse order. ``flip`` uses the four pure flips
(ops 0..3), ``d4`` all eight (flips, 90-degree rotations, transposes). A landslide map should
not depend on the image's orientation (no sun-shadow convention is learned from 128-px patches),
so averaging the probabilities over these views removes orientation noise.

Two users: :func:`tta_probabilities` wraps any ``N x C x H x W -> N x H x W`` probability
function (scene inference, ONNX); :func:`tta_config` rewrites a config for mmengine's TTA loop
(``LandslideTTAModel`` + ``D4View`` in ``TestTimeAug``), as mmseg's ``tools/test.py --tta`` does.
"""
import copy
from typing import Callable, List

import torch

from lszoo.errors import ConfigError

TTA_OPS = {'none': [0], 'flip': [0, 1, 2, 3], 'd4': list(range(8))}


def tta_ops(mode: str) -> List[int]:
    if mode not in TTA_OPS:
        raise ConfigError(f"--tta must be one of {sorted(TTA_OPS)}, got {mode!r}")
    return TTA_OPS[mode]


def apply_op(x, op: int, h_axis: int = -2):
    """Apply D4 op ``op`` to the last two axes (``h_axis``, ``h_axis + 1``) of a tensor/array."""
    w_axis = h_axis + 1
    if op & 4:
        x = x.transpose(h_axis, w_axis) if isinstance(x, torch.Tensor) else x.swapaxes(
            h_axis, w_axis)
    if op & 2:
        x = x.flip(h_axis) if isinstance(x, torch.Tensor) else x[_index(x, h_axis)]
    if op & 1:
        x = x.flip(w_axis) if isinstance(x, torch.Tensor) else x[_index(x, w_axis)]
    return x


def invert_op(x, op: int, h_axis: int = -2):
    """Undo :func:`apply_op`: flips first, then the transpose."""
    w_axis = h_axis + 1
    if op & 1:
        x = x.flip(w_axis) if isinstance(x, torch.Tensor) else x[_index(x, w_axis)]
    if op & 2:
        x = x.flip(h_axis) if isinstance(x, torch.Tensor) else x[_index(x, h_axis)]
    if op & 4:
        x = x.transpose(h_axis, w_axis) if isinstance(x, torch.Tensor) else x.swapaxes(
            h_axis, w_axis)
    return x


def _index(x, axis):
    idx = [slice(None)] * x.ndim
    idx[axis] = slice(None, None, -1)
    return tuple(idx)


def tta_probabilities(prob_fn: Callable[[torch.Tensor], torch.Tensor], batch: torch.Tensor,
                      mode: str = 'flip') -> torch.Tensor:
    """Mean of ``prob_fn`` (``N x C x H x W -> N x H x W``) over the views of ``mode``, each
    mapped back to the input's orientation. Non-square tiles only take transposes when the
    model accepts the swapped shape (any fully convolutional one)."""
    ops = tta_ops(mode)
    acc = None
    for op in ops:
        p = invert_op(prob_fn(apply_op(batch, op)), op)
        acc = p if acc is None else acc + p
    return acc / len(ops)


def tta_config(cfg, mode: str):
    """A copy of ``cfg`` that tests with TTA: the test loader's pipeline ends in
    ``TestTimeAug`` over the ``D4View`` ops of ``mode`` and the model is wrapped in
    ``LandslideTTAModel`` (as mmseg's ``--tta`` uses ``tta_pipeline`` / ``tta_model``)."""
    ops = tta_ops(mode)
    cfg = copy.deepcopy(cfg)
    pipeline = list(cfg.test_dataloader.dataset.get('pipeline') or [])
    if not pipeline or pipeline[-1].get('type') != 'PackSegInputs':
        raise ConfigError('--tta: the test pipeline must end with PackSegInputs')
    pack = dict(pipeline[-1])
    keys = tuple(pack.get('meta_keys') or ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
                                            'pad_shape', 'scale_factor', 'flip',
                                            'flip_direction', 'reduce_zero_label'))
    pack['meta_keys'] = keys + ('tta_op', ) if 'tta_op' not in keys else keys
    cfg.test_dataloader.dataset.pipeline = pipeline[:-1] + [dict(
        type='TestTimeAug', transforms=[[dict(type='D4View', op=op) for op in ops], [pack]])]
    cfg.tta_model = dict(type='LandslideTTAModel', module=cfg.model)
    cfg.model = cfg.tta_model
    return cfg
