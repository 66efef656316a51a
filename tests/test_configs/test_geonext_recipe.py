"""The GeoNeXt paper configs carry the reference code's recipe (github ruribev/GeoNeXt)."""
import os.path as osp

import pytest
from helpers import REPO
from mmengine.config import Config


@pytest.mark.parametrize('name,per_epoch', [('geonext_cas', 1826), ('geonext_bijie', 243)])
def test_recipe_as_the_reference_runs_it(name, per_epoch):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'geonext', f'{name}.py'))
    opt = cfg.optim_wrapper.optimizer
    # OneCycle(max 3.5e-3, div_factor 65) configured but never stepped: constant 3.5e-3 / 65
    assert opt.type == 'Adam' and opt.lr == pytest.approx(5.3846e-5, rel=1e-4)
    assert opt.weight_decay == 0 and not cfg.param_scheduler
    assert cfg.model.backbone.drop_path_rate == 0
    assert cfg.train_dataloader.batch_size == 8
    assert cfg.train_cfg.max_iters == 60 * per_epoch
    assert cfg.train_cfg.val_interval == per_epoch  # validation every epoch
    ckpt = cfg.default_hooks.checkpoint
    assert (ckpt.save_best, ckpt.rule) == ('mIoU', 'greater')  # the reference's best mIoU
    steps = {t['type']: t for t in cfg.train_dataloader.dataset.pipeline}
    assert steps['NormalizeBands']['mode'] == 'scale' and steps['NormalizeBands']['scale'] == 255
    assert steps['RandomFlip']['prob'] == 0.35 and steps['RandomFlip']['direction'] == 'horizontal'
    assert steps['RandomRotate']['prob'] == 1.0 and steps['RandomRotate']['degree'] == 8
    jitter = steps['BandColorJitter']
    assert (jitter['brightness'], jitter['contrast'], jitter['saturation'], jitter['hue']) == (
        0.06, 0.06, 0.06, 0.02)
    elastic = steps['RandomElasticDeform']
    assert (elastic['alpha'], elastic['sigma'], elastic['prob']) == (85, 4.5, 0.2)
    for key in ('val_dataloader', 'test_dataloader'):
        modes = [t.get('mode') for t in cfg[key].dataset.pipeline
                 if t['type'] == 'NormalizeBands']
        assert modes == ['scale']  # no per-image min-max anywhere
