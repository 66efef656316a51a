"""GeoNeXt reference names (github ruribev/GeoNeXt, ``models/GeoNeXt.py``) -> lszoo names.

The reference model is ``encoder.backbone.*`` (the ConvNeXt V2 release layout) plus the decoder
modules ``upconv1-3``, ``psa_conv1-3``, ``final_upconv``, ``aspp``, ``final_conv``; lszoo's is an
mmseg ``EncoderDecoder`` with ``backbone.model.*`` (timm ``features_only``) and ``decode_head.*``
(:class:`~lszoo.models.decode_heads.PSAASPPHead`). Every reference tensor has exactly one lszoo
counterpart (the reference's 1-based module numbers become 0-based list indices); the GRN
gamma/beta of shape (1, 1, 1, C) become timm's (C,).
"""
from typing import Dict

import torch

from .common import rename_keys

_P = r'(weight|bias|running_mean|running_var|num_batches_tracked)'
_E = r'encoder\.backbone\.'
_BLOCK = {'dwconv': 'conv_dw', 'norm': 'norm', 'pwconv1': 'mlp.fc1', 'pwconv2': 'mlp.fc2'}


def _minus1(m, i: int) -> str:
    return str(int(m.group(i)) - 1)


RULES = [
    (_E + r'downsample_layers\.0\.([01])\.' + _P, r'backbone.model.stem_\1.\2'),
    (_E + r'downsample_layers\.([123])\.([01])\.' + _P,
     r'backbone.model.stages_\1.downsample.\2.\3'),
    (_E + r'stages\.(\d)\.(\d+)\.(dwconv|norm|pwconv1|pwconv2)\.' + _P,
     lambda m: f'backbone.model.stages_{m[1]}.blocks.{m[2]}.{_BLOCK[m[3]]}.{m[4]}'),
    (_E + r'stages\.(\d)\.(\d+)\.grn\.(gamma|beta)',
     lambda m: f'backbone.model.stages_{m[1]}.blocks.{m[2]}.mlp.grn.'
     + ('weight' if m[3] == 'gamma' else 'bias')),
    (r'upconv([123])\.(weight|bias)', lambda m: f'decode_head.ups.{_minus1(m, 1)}.{m[2]}'),
    (r'psa_conv([123])\.psa\.conv_([1-4])\.(weight|bias)',
     lambda m: f'decode_head.blocks.{_minus1(m, 1)}.psa.convs.{_minus1(m, 2)}.{m[3]}'),
    (r'psa_conv([123])\.downsample\.([01])\.' + _P,
     lambda m: f'decode_head.blocks.{_minus1(m, 1)}.shortcut.{m[2]}.{m[3]}'),
    (r'psa_conv([123])\.((?:conv[13]|bn[123]|psa\.se\.fc[12])\.' + _P + ')',
     lambda m: f'decode_head.blocks.{_minus1(m, 1)}.{m[2]}'),
    (r'final_upconv\.(weight|bias)', r'decode_head.final_up.\1'),
    (r'aspp\.branch([1-4])\.0\.(weight|bias)',
     lambda m: f'decode_head.aspp.branches.{_minus1(m, 1)}.conv.{m[2]}'),
    (r'aspp\.branch([1-4])\.1\.' + _P,
     lambda m: f'decode_head.aspp.branches.{_minus1(m, 1)}.bn.{m[2]}'),
    (r'aspp\.branch5_conv\.(weight|bias)', r'decode_head.aspp.image_pool.1.conv.\1'),
    (r'aspp\.conv_cat\.0\.(weight|bias)', r'decode_head.aspp.project.conv.\1'),
    (r'aspp\.conv_cat\.1\.' + _P, r'decode_head.aspp.project.bn.\1'),
    (r'final_conv\.0\.(weight|bias)', r'decode_head.head.conv.\1'),
    (r'final_conv\.1\.' + _P, r'decode_head.head.bn.\1'),
    (r'final_conv\.3\.(weight|bias)', r'decode_head.conv_seg.\1'),
]


def _reshape(key: str, value: torch.Tensor) -> torch.Tensor:
    if '.mlp.grn.' in key:
        return value.reshape(-1)
    return value


def convert_geonext(state: Dict[str, torch.Tensor], source: str = '<state_dict>') -> Dict:
    """A GeoNeXt reference state dict (unwrapped) -> lszoo ``EncoderDecoder`` state dict."""
    return rename_keys(state, RULES, source, 'GeoNeXt', transform=_reshape)
