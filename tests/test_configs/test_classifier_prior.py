"""mmseg's UNet configs and the GeoNeXt demo start their 1x1 classifier at a landslide prior.

From bias 0 the early background loss drove every weight of the 1x1 classifier negative on the
sparse Nepal set (mmseg's UNet) and on the synthetic benchmark (UNet and GeoNeXt-atto), so the
trained model could call landslide only where all decoder features were zero
(docs/benchmarks/recipes.md, section 6). mmseg's UNet configs set the bias to logit(0.03), the
GeoNeXt demo to logit(0.01).
"""
import glob
import math
import os.path as osp

import pytest
import torch
from helpers import REPO

UNET_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'unet', 'unet_*.py')))
GEONEXT_DEMO = osp.join(REPO, 'configs', 'demo', 'geonext_synthetic.py')


def _build(path, shrink=None):
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules

    from lszoo.config import load_config
    register_all_modules(init_default_scope=True)
    cfg = load_config(path)
    if shrink:
        shrink(cfg.model)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.eval()


def _unet_width4(model_cfg):
    # the classifier's init does not depend on the width, the test's time does
    model_cfg.backbone.base_channels = 4
    model_cfg.decode_head.in_channels = model_cfg.decode_head.channels = 4


def _check_prior(model, prior, channels):
    cls = model.decode_head.conv_seg
    assert cls.bias.item() == pytest.approx(math.log(prior / (1 - prior)), abs=1e-6)
    assert 0 < cls.weight.abs().max().item() < 0.05  # mmseg's N(0, 0.01) kept for the weights
    # the untrained model predicts about the prior everywhere, far from the threshold
    with torch.no_grad():
        prob = model(torch.rand(1, channels, 32, 32), mode='tensor').sigmoid()  # logits
    assert prob.max().item() < 1.5 * prior and prob.min().item() > 0.5 * prior


@pytest.mark.parametrize('path', UNET_CONFIGS, ids=osp.basename)
def test_unet_classifier_starts_at_the_landslide_prior(path):
    torch.manual_seed(0)
    model = _build(path, _unet_width4)
    _check_prior(model, 0.03, model.backbone.encoder[0][0].convs[0].conv.in_channels)
    # the prior touches the classifier only: mmseg's Kaiming init stays on the convolutions
    conv = model.backbone.encoder[1][1].convs[0].conv.weight  # 4 -> 8 channels, 3x3
    assert conv.std().item() == pytest.approx(math.sqrt(2 / (8 * 9)), rel=0.25)


def test_geonext_demo_classifier_starts_at_the_landslide_prior():
    torch.manual_seed(0)
    model = _build(GEONEXT_DEMO)
    _check_prior(model, 0.01, 5)  # the synthetic world's R, G, B, DEM, slope
