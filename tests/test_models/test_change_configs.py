"""Every bi-temporal config builds, trains one step and tests on a tiny synthetic GVLM copy.

The copy is lszoo's synthetic bi-temporal world (:mod:`lszoo.datasets.synthetic_change`) in
GVLM's layout (sites with im1/im2/ref, their tiles, whole-site split files), read by
``GVLMDataset`` as the real data would be.
"""
import glob
import math
import os.path as osp

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GVLM_CONFIGS = [
    'early_fusion_unet/early_fusion_unet_gvlm.py', 'fc_siam/fc_siam_diff_gvlm.py',
    'fc_siam/fc_siam_conc_gvlm.py', 'bit/bit_gvlm.py',
    'digate_unet/digate_unet_bitemporal_gvlm.py', 'geonext/geonext_bitemporal_gvlm.py']
DEMO_CONFIGS = [
    'demo/change_post_only_unet_synthetic.py', 'demo/early_fusion_unet_synthetic.py',
    'demo/fc_siam_diff_synthetic.py', 'demo/fc_siam_conc_synthetic.py', 'demo/bit_synthetic.py',
    'demo/digate_unet_bitemporal_synthetic.py', 'demo/geonext_bitemporal_synthetic.py']
TILE = 64
#: paper-size encoders made light here (tests/test_all_configs.py trains them at full size)
LIGHT = {'digate_unet/digate_unet_bitemporal_gvlm.py': {
             'model.backbone.encoder.model_name': 'lcnet_050'},
         'geonext/geonext_bitemporal_gvlm.py': {'model.backbone.encoder.arch': 'atto'}}


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    from lszoo.datasets.synthetic_change import write_change_world
    root = tmp_path_factory.mktemp('change_world')
    return str(write_change_world(root, num_sites=4, size=2 * TILE, tile=TILE, seed=0))


def _tiny(config, work_dir, root, options=None):
    from mmengine.config import Config

    from lszoo.testing import shrink_config
    cfg = shrink_config(Config.fromfile(osp.join(REPO, 'configs', config)), work_dir,
                        data_root=root, iters=1, batch_size=2, crop=TILE)
    cfg.default_hooks.checkpoint.save_optimizer = False
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = cfg[key].dataset
        assert ds.type == 'GVLMDataset', f'{config}: {key} reads {ds.type}'
        ds.tile_dir = f'tiles_{TILE}'
    if options:
        cfg.merge_from_dict(options)
    return cfg


def _train_and_test(cfg):
    from lszoo.engine import build_runner
    runner = build_runner(cfg)
    runner.train()
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert math.isfinite(loss)
    metrics = runner.test()
    assert 0.0 <= metrics['IoU'] <= 100.0 or math.isnan(metrics['IoU'])
    batch = next(iter(runner.test_dataloader))
    with torch.no_grad():
        out = runner.model.test_step(batch)[0]
    assert out.pred_sem_seg.data.shape[-2:] == out.gt_sem_seg.data.shape[-2:] == (TILE, TILE)
    return runner


def test_every_change_config_is_listed():
    """New GVLM change configs must be added here (the demo glob guards against a silent gap;
    the Sen12Landslides ones are covered by tests/test_configs/test_all_configs.py)."""
    found = {osp.relpath(p, osp.join(REPO, 'configs')) for p in glob.glob(
        osp.join(REPO, 'configs', '*', '*.py')) if ('bitemporal' in p or 'fc_siam' in p
        or 'early_fusion' in p or '/bit/' in p or 'bit_synthetic' in p
        or 'change_post_only' in p) and 'sen12' not in p}
    assert found == set(GVLM_CONFIGS + DEMO_CONFIGS)


@pytest.mark.parametrize('config', GVLM_CONFIGS + DEMO_CONFIGS)
def test_change_config_trains_a_step_and_tests(config, world, tmp_path):
    runner = _train_and_test(_tiny(config, tmp_path / 'work', world, LIGHT.get(config)))
    ds = runner.test_dataloader.dataset
    want = 3 if 'post_only' in config else 6
    assert len(ds.band_names) == want
    if want == 6:
        assert dict(ds.stream_layout) == {'post': [0, 1, 2], 'pre': [3, 4, 5]}


def test_digate_bitemporal_with_dem_stream_trains(world, tmp_path):
    """The DEM stream of DiGATe-UNet stays single-date beside the siamese dates."""
    bands = ['R', 'G', 'B', 'pre_R', 'pre_G', 'pre_B', 'DEM']
    layout = {'post': [0, 1, 2], 'pre': [3, 4, 5], 'topo': [6]}
    options = {f'{k}.dataset.{f}': v for k in ('train_dataloader', 'val_dataloader',
                                               'test_dataloader')
               for f, v in (('bands', bands), ('stream_layout', layout))}
    cfg = _tiny('demo/digate_unet_bitemporal_synthetic.py', tmp_path / 'work', world, options)
    cfg.model.backbone.stream_channels = dict(post=[0, 1, 2], pre=[3, 4, 5], dem=[6, 6, 6])
    cfg.model.backbone.dem_encoder = dict(type='TIMMBackbone', model_name='lcnet_050',
                                          features_only=True, pretrained=False)
    cfg.model.neck.necks[0]['second_stream'] = 'dem'
    runner = _train_and_test(cfg)
    backbone = runner.model.backbone
    assert backbone.dem_encoder is not None
    assert backbone.dem_encoder is not backbone.encoder
