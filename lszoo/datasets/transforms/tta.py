"""``D4View``: one deterministic dihedral view of a sample for test-time augmentation."""
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from lszoo.utils.tta import apply_op


@TRANSFORMS.register_module()
class D4View(BaseTransform):
    """Apply D4 op ``op`` (see :mod:`lszoo.utils.tta`) to ``img`` and the segmentation maps.

    A transposing op also swaps ``img_shape`` and ``ori_shape``, so that mmseg's
    post-processing resizes the prediction to the transposed original size;
    ``LandslideTTAModel`` maps it back with the inverse op (stored as ``tta_op``).
    """

    def __init__(self, op: int = 0):
        if not 0 <= int(op) < 8:
            raise ValueError(f'D4View: op must be in 0..7, got {op}')
        self.op = int(op)

    def transform(self, results: dict) -> dict:
        results['img'] = np.ascontiguousarray(apply_op(results['img'], self.op, h_axis=0))
        for key in results.get('seg_fields', []):
            results[key] = np.ascontiguousarray(apply_op(results[key], self.op, h_axis=0))
        if self.op & 4:
            for key in ('img_shape', 'ori_shape'):
                if key in results:
                    results[key] = tuple(results[key][:2])[::-1]
        results['tta_op'] = self.op
        return results

    def __repr__(self):
        return f'{type(self).__name__}(op={self.op})'
