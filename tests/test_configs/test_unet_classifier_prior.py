"""mmseg's UNet configs start their classifier at a landslide prior, not at p = 0.5.

From bias 0 the early background loss drove every weight of the 1x1 classifier negative on the
sparse Nepal set, so the trained model could call landslide only where all decoder features were
zero (docs/benchmarks/recipes.md, section 6); the base config sets the bias to logit(0.1).
"""
import glob
import math
import os.path as osp

import pytest
import torch
from helpers import REPO

UNET_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'unet', 'unet_*.py')))


def _build(path):
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules

    from lszoo.config import load_config
    register_all_modules(init_default_scope=True)
    cfg = load_config(path)
    # width 4: the classifier's init does not depend on the width, the test's time does
    cfg.model.backbone.base_channels = 4
    cfg.model.decode_head.in_channels = cfg.model.decode_head.channels = 4
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.eval()


@pytest.mark.parametrize('path', UNET_CONFIGS, ids=osp.basename)
def test_classifier_starts_at_the_landslide_prior(path):
    torch.manual_seed(0)
    model = _build(path)
    cls = model.decode_head.conv_seg
    assert cls.bias.item() == pytest.approx(math.log(0.1 / 0.9), abs=1e-6)
    assert 0 < cls.weight.abs().max().item() < 0.05  # mmseg's N(0, 0.01) kept for the weights
    # the untrained model predicts about 10 % landslide everywhere, far from the 0.5 threshold
    channels = model.backbone.encoder[0][0].convs[0].conv.in_channels
    with torch.no_grad():
        prob = model(torch.rand(1, channels, 32, 32), mode='tensor').sigmoid()  # logits
    assert prob.max().item() < 0.15 and prob.min().item() > 0.07
    # the prior touches the classifier only: mmseg's Kaiming init stays on the convolutions
    conv = model.backbone.encoder[1][1].convs[0].conv.weight  # 4 -> 8 channels, 3x3
    assert conv.std().item() == pytest.approx(math.sqrt(2 / (8 * 9)), rel=0.25)
