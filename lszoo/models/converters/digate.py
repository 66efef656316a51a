"""DiGATe-UNet reference names (github mishaown/DiGATe-UNet-LandSlide-Segmentation,
``models/DiGATe_Unet.py``) -> lszoo names.

Reference: ``encoderA.net`` / ``encoderB.net`` (timm ``features_only``), early gates
``efuse_c3`` / ``efuse_c4``, ``decoderA`` / ``decoderB``, late gates ``fuse_x3`` / ``fuse_x4``,
``up_final``, ``head``, ``aux2`` / ``aux3``. lszoo: ``backbone.encoders.{0,1}``
(:class:`DualStreamTimmEncoder`), ``neck.gates.{2,3}`` (:class:`GatedFusionNeck`, keyed by
level: stride 8 is level 2, stride 16 level 3) and ``decode_head.*`` (:class:`DiGATeHead`).
"""
from typing import Dict

import torch

from .common import rename_keys

_P = r'(weight|bias|running_mean|running_var|num_batches_tracked)'
_DEC = r'decoder([AB])\.'
_SIDE = {'A': 'a', 'B': 'b'}
_CONV_GN = {'0': 'conv', '1': 'gn'}


def _dec(m) -> str:
    return f'decode_head.decoder_{_SIDE[m[1]]}'


RULES = [
    (r'encoder([AB])\.net\.(.+)', lambda m: f"backbone.encoders.{'AB'.index(m[1])}.{m[2]}"),
    (r'efuse_c3\.g\.0\.(weight|bias)', r'neck.gates.2.gate.\1'),
    (r'efuse_c4\.g\.0\.(weight|bias)', r'neck.gates.3.gate.\1'),
    # sub-pixel up: conv + GroupNorm
    (_DEC + r'(up[1-4])\.up\.conv\.weight', lambda m: f'{_dec(m)}.{m[2]}.up.conv.conv.weight'),
    (_DEC + r'(up[1-4])\.up\.norm\.(weight|bias)',
     lambda m: f'{_dec(m)}.{m[2]}.up.conv.gn.{m[3]}'),
    # cross-attention up (level 5 -> 4)
    (_DEC + r'up1\.(proj_[qkv]\.weight)', lambda m: f'{_dec(m)}.up1.{m[2]}'),
    (_DEC + r'up1\.xattn\.ln([12])\.(weight|bias)',
     lambda m: f'{_dec(m)}.up1.block.norm{m[2]}.{m[3]}'),
    (_DEC + r'up1\.xattn\.(attn\..+|mlp\.[02]\.(?:weight|bias))',
     lambda m: f'{_dec(m)}.up1.block.{m[2]}'),
    (_DEC + r'up1\.post\.([01])\.(weight|bias)',
     lambda m: f'{_dec(m)}.up1.post.{_CONV_GN[m[2]]}.{m[3]}'),
    # attention-gated ups (to 1/8, 1/4, 1/2)
    (_DEC + r'(up[2-4])\.attn\.W([gx])\.([01])\.(weight|bias)',
     lambda m: f'{_dec(m)}.{m[2]}.gate.proj_{m[3]}.{_CONV_GN[m[4]]}.{m[5]}'),
    (_DEC + r'(up[2-4])\.attn\.psi\.([12])\.' + _P,
     lambda m: f'{_dec(m)}.{m[2]}.gate.psi.{m[3]}.{m[4]}'),
    (_DEC + r'(up[2-4])\.conv\.block\.([0134])\.(weight|bias)',
     lambda m: f"{_dec(m)}.{m[2]}.conv.{0 if m[3] in '01' else 1}."
     f"{'conv' if m[3] in '03' else 'gn'}.{m[4]}"),
    # late fusion and heads
    (r'fuse_x3\.g\.0\.(weight|bias)', r'decode_head.fuse_quarter.gate.\1'),
    (r'fuse_x4\.g\.0\.(weight|bias)', r'decode_head.fuse_half.gate.\1'),
    (r'up_final\.conv\.weight', r'decode_head.up_final.conv.conv.weight'),
    (r'up_final\.norm\.(weight|bias)', r'decode_head.up_final.conv.gn.\1'),
    (r'head\.conv\.(weight|bias)', r'decode_head.conv_seg.\1'),
    (r'aux2\.conv\.(weight|bias)', r'decode_head.conv_aux_quarter.\1'),
    (r'aux3\.conv\.(weight|bias)', r'decode_head.conv_aux_half.\1'),
]


def convert_digate(state: Dict[str, torch.Tensor], source: str = '<state_dict>') -> Dict:
    """A DiGATe-UNet reference state dict (unwrapped) -> lszoo ``EncoderDecoder`` state dict."""
    return rename_keys(state, RULES, source, 'DiGATe-UNet')
