"""Decode head of DiGATe-UNet: two U-Net decoders, late gated fusion and deep supervision.

DiGATe-UNet: Lightweight Dual-Stream Framework for Landslide Segmentation (reference code:
github.com/mishaown/DiGATe-UNet-LandSlide-Segmentation). Each decoder climbs from the deepest level
with one cross-attention up-block (1/32 -> 1/16) and three attention-gated sub-pixel up-blocks (->
1/8, 1/4, 1/2). Decoder A reads stream A's maps (fused with B at levels 3 and 4 by
:class:`GatedFusionNeck`), decoder B reads stream B's. Their outputs are fused by gates at 1/2 (main
path: sub-pixel up to full size, 1x1 conv) and at 1/4 (auxiliary output only). Training adds two
deep-supervision losses on 1x1-conv outputs at 1/4 and 1/2 (bilinearly upsampled, weights 0.6 and
0.4) and ``loss_gate_reg`` = ``gate_reg_weight`` x the sum of the four gates' ``mean(alpha (1 -
alpha))``. Inference computes only the main output (the 1/4 fusion and the auxiliary convs are
skipped).
"""
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS

from lszoo.errors import ConfigError
from lszoo.models.layers.conv_blocks import GN1, reset_convs_to_pytorch_default
from lszoo.models.layers.cross_attention_up import CrossAttentionUp
from lszoo.models.layers.gated_fusion import GatedFusion
from lszoo.models.layers.gated_skip_up import GatedSkipUp
from lszoo.models.layers.subpixel_upsample import SubPixelUpsample
from lszoo.models.layers.utils import check_channels
from lszoo.models.segmentors.auto_width_encoder_decoder import check_widths_resolved


class DiGATeDecoder(nn.Module):
    """One DiGATe-UNet decoder over five levels ``C1..C5`` (strides 2..32).

    ``CrossAttentionUp(C5, C4, C4/2)`` then ``GatedSkipUp`` to ``C3/2`` (1/8), ``C2/2`` (1/4) and
    ``C1/2`` (1/2). ``forward(feats)`` returns the 1/4 and 1/2 maps.
    """

    def __init__(self, in_channels: Sequence[int], num_heads: int = 2, mlp_ratio: float = 2.0,
                 norm_cfg: dict = GN1):
        super().__init__()
        c1, c2, c3, c4, c5 = in_channels
        self.up1 = CrossAttentionUp(c5, c4, c4 // 2, num_heads, mlp_ratio, norm_cfg)
        self.up2 = GatedSkipUp(c4 // 2, c3, c3 // 2, norm_cfg)
        self.up3 = GatedSkipUp(c3 // 2, c2, c2 // 2, norm_cfg)
        self.up4 = GatedSkipUp(c2 // 2, c1, c1 // 2, norm_cfg)

    def forward(self, feats):
        f1, f2, f3, f4, f5 = feats
        x = self.up2(self.up1(f5, f4), f3)
        x_quarter = self.up3(x, f2)
        return x_quarter, self.up4(x_quarter, f1)


@MODELS.register_module()
class DiGATeHead(BaseDecodeHead):
    """DiGATe-UNet decoders, late gated fusion and deep supervision as an mmseg decode head.

    Args:
        in_channels: widths of the five encoder levels (``(24, 32, 56, 160, 448)`` for
            ``tf_efficientnet_b4``), or ``'auto'``: filled from the encoder by
            ``AutoWidthEncoderDecoder``.
        channels: width before the output conv; fixed by the architecture to ``C1 // 4`` (leave
            ``None``).
        num_classes: 2 (background, landslide). out_channels: 1 (sigmoid, with ``threshold``) or 2
            (softmax).
        aux_weights: loss weights of the auxiliary outputs at 1/4 and 1/2 (default 0.6, 0.4; a 0
            drops that output).
        gate_reg_weight: weight of the summed gate regularisers (``loss_gate_reg``; 0 disables).
        num_heads, mlp_ratio: of the cross-attention block. norm_cfg: decoder norm (one-group GN).
        loss_decode: as in mmseg; applied to the main and the auxiliary outputs.

    Input: :data:`lszoo.models.necks.gated_fusion.FusedFeatures` from :class:`GatedFusionNeck`,
    or a plain ``(feats_a, feats_b)`` pair straight from :class:`DualStreamTimmEncoder` (then there
    is no early fusion).
    """

    def __init__(self,
                 in_channels: Sequence[int] = (24, 32, 56, 160, 448),
                 channels=None,
                 num_classes: int = 2,
                 out_channels: int = 1,
                 threshold: float = 0.5,
                 aux_weights: Sequence[float] = (0.6, 0.4),
                 gate_reg_weight: float = 1e-3,
                 num_heads: int = 2,
                 mlp_ratio: float = 2.0,
                 norm_cfg: dict = GN1,
                 dropout_ratio: float = 0.0,
                 init_cfg=None,
                 **kwargs):
        check_widths_resolved('DiGATeHead', in_channels)
        in_channels = [int(c) for c in in_channels]
        if len(in_channels) != 5:
            raise ConfigError(f'DiGATeHead: in_channels needs the widths of 5 encoder levels, '
                              f'got {in_channels}')
        final = in_channels[0] // 4
        if channels is not None and channels != final:
            raise ConfigError(f'DiGATeHead: channels is fixed to in_channels[0] // 4 = {final}, '
                              f'got {channels}')
        if final < 1:
            raise ConfigError(f'DiGATeHead: in_channels[0]={in_channels[0]} is too narrow '
                              f'(the head needs at least 4 channels at stride 2)')
        aux_weights = tuple(float(w) for w in aux_weights)
        if len(aux_weights) != 2 or any(w < 0 for w in aux_weights):
            raise ConfigError(f'DiGATeHead: aux_weights must be two non-negative weights '
                              f'(1/4, 1/2), got {aux_weights}')
        kwargs.setdefault('input_transform', 'multiple_select')
        kwargs.setdefault('in_index', [0, 1, 2, 3, 4])
        super().__init__(in_channels, final, num_classes=num_classes,
                         out_channels=out_channels, threshold=threshold,
                         dropout_ratio=dropout_ratio, norm_cfg=norm_cfg, init_cfg=init_cfg,
                         **kwargs)
        c1, c2 = in_channels[0], in_channels[1]
        self.aux_weights = aux_weights
        self.gate_reg_weight = float(gate_reg_weight)
        self.decoder_a = DiGATeDecoder(in_channels, num_heads, mlp_ratio, norm_cfg)
        self.decoder_b = DiGATeDecoder(in_channels, num_heads, mlp_ratio, norm_cfg)
        self.fuse_quarter = GatedFusion(c2 // 2)
        self.fuse_half = GatedFusion(c1 // 2)
        self.up_final = SubPixelUpsample(c1 // 2, final, norm_cfg=norm_cfg)
        self.conv_aux_quarter = (nn.Conv2d(c2 // 2, self.out_channels, 1)
                                 if aux_weights[0] > 0 else None)
        self.conv_aux_half = (nn.Conv2d(c1 // 2, self.out_channels, 1)
                              if aux_weights[1] > 0 else None)
        reset_convs_to_pytorch_default(self)

    def init_weights(self):
        """mmengine's initialisation, then PyTorch's default for every convolution, as the
        reference initialises its decoder (see ``reset_convs_to_pytorch_default``)."""
        super().init_weights()
        reset_convs_to_pytorch_default(self)

    def _decode(self, inputs, with_quarter: bool):
        feats_a, feats_b = inputs[0], inputs[1]
        regs = list(inputs[2]) if len(inputs) > 2 else []
        check_channels('DiGATeHead', self.in_channels, feats_a)
        check_channels('DiGATeHead', self.in_channels, feats_b)
        qa, ha = self.decoder_a(feats_a)
        qb, hb = self.decoder_b(feats_b)
        half, reg = self.fuse_half(ha, hb)
        regs.append(reg)
        quarter = None
        if with_quarter:
            quarter, reg = self.fuse_quarter(qa, qb)
            regs.append(reg)
        return quarter, half, regs

    def forward(self, inputs):
        """Main logits at the input resolution (N, out_channels, H, W)."""
        _, half, _ = self._decode(inputs, with_quarter=False)
        return self.cls_seg(self.up_final(half))

    def forward_train(self, inputs):
        """``(main, aux_quarter, aux_half, gate_regs)``; aux logits are at 1/4 and 1/2 size."""
        quarter, half, regs = self._decode(inputs, with_quarter=True)
        main = self.cls_seg(self.up_final(half))
        aux_q = self.conv_aux_quarter(quarter) if self.conv_aux_quarter is not None else None
        aux_h = self.conv_aux_half(half) if self.conv_aux_half is not None else None
        return main, aux_q, aux_h, regs

    def loss(self, inputs, batch_data_samples, train_cfg) -> dict:
        main, aux_q, aux_h, regs = self.forward_train(inputs)
        losses = self.loss_by_feat(main, batch_data_samples)
        for name, logits, weight in (('aux_quarter', aux_q, self.aux_weights[0]),
                                     ('aux_half', aux_h, self.aux_weights[1])):
            if logits is None:
                continue
            logits = F.interpolate(logits, size=main.shape[2:], mode='bilinear',
                                   align_corners=True)
            for key, value in self.loss_by_feat(logits, batch_data_samples).items():
                if key.startswith('loss'):
                    losses[f'{name}_{key}'] = weight * value
        if self.gate_reg_weight > 0 and regs:
            losses['loss_gate_reg'] = self.gate_reg_weight * torch.stack(regs).sum()
        return losses

    def loss_by_feat(self, seg_logits, batch_data_samples) -> dict:
        losses = super().loss_by_feat(seg_logits, batch_data_samples)
        if self.out_channels == 1:
            # mmseg's accuracy takes an argmax over channels, meaningless with one channel.
            with torch.no_grad():
                label = self._stack_batch_gt(batch_data_samples).squeeze(1)
                logits = seg_logits
                if logits.shape[2:] != label.shape[1:]:
                    logits = F.interpolate(logits, size=label.shape[1:], mode='bilinear',
                                           align_corners=self.align_corners)
                pred = (logits[:, 0].sigmoid() > self.threshold).long()
                valid = label != self.ignore_index
                n = valid.sum().clamp(min=1)
                losses['acc_seg'] = ((pred == label) & valid).sum() * 100.0 / n
        return losses
