"""``LandslideTTAModel``: merges the D4 views of a sample by averaging probabilities.

mmseg's ``SegTTAModel`` applies a sigmoid to one-channel ``seg_logits`` that mmseg's
post-processing already turned into probabilities, and it cannot undo transposes; this merge
takes the probabilities as they are (softmax for two channels), maps every view back with the
inverse of its ``tta_op`` and thresholds the mean with the head's threshold.
"""
from typing import List

import torch
from mmengine.model import BaseTTAModel
from mmengine.structures import PixelData
from mmseg.registry import MODELS

from lszoo.utils.tta import invert_op


@MODELS.register_module()
class LandslideTTAModel(BaseTTAModel):

    def merge_preds(self, data_samples_list: List[list]) -> list:
        merged = []
        head = self.module.decode_head
        for views in data_samples_list:
            probs = []
            for s in views:
                p = s.seg_logits.data  # C x H x W; one channel: already sigmoid
                if p.shape[0] > 1:
                    p = p.softmax(dim=0)
                probs.append(invert_op(p, int(s.metainfo.get('tta_op', 0))))
            prob = torch.stack(probs).mean(0)
            out = views[0]  # op 0 (identity): its meta and ground truth are the original's
            if prob.shape[0] == 1:
                pred = (prob > head.threshold).to(prob)
                logits = prob
            else:
                pred = prob.argmax(dim=0, keepdim=True)
                logits = prob.clamp_min(1e-12).log()  # softmax(log p) = p
            out.set_data({'seg_logits': PixelData(data=logits),
                          'pred_sem_seg': PixelData(data=pred)})
            merged.append(out)
        return merged
