"""Each base dataset config trains the U-Net baseline for two iterations on a synthetic copy of
its layout (configs/unet/unet_<dataset>.py shrunk by lszoo.testing.shrink_config)."""
import math
from pathlib import Path

import pytest
from helpers import REPO, load_script
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from lszoo.datasets.synthetic_writers import write_synthetic_dataset
from lszoo.engine import build_runner
from lszoo.testing import shrink_config

CROP = 32


def _cut_gvlm(root: Path, size: int) -> None:
    mod = load_script('tools/dataset_converters/gvlm.py')
    mod.convert(root, root / f'tiles_{size}', size=size, overlap=0)


def _synthetic_root(name, tmp_path):
    # enough images that every split holds at least one batch after the 70/20/10-type splits
    n = {'l4s': 4, 'bijie': 5, 'cas': 4, 'gvlm': 3}[name]
    root = write_synthetic_dataset(name, tmp_path / 'data', num_images=n, size=CROP, seed=1)
    if name == 'gvlm':
        _cut_gvlm(root, CROP)
    return root


def _set_all(cfg, **kw):
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.update(kw)


@pytest.mark.parametrize('name', ['l4s', 'bijie', 'cas', 'gvlm'])
def test_base_dataset_config_trains_unet(name, tmp_path):
    base = Config.fromfile(str(Path(REPO, 'configs/_base_/datasets', f'{name}.py')))
    cfg = Config.fromfile(str(Path(REPO, 'configs/unet', f'unet_{name}.py')))
    assert cfg.model.backbone.in_channels == base.in_channels
    assert cfg.train_dataloader.dataset.data_root == f'data/{name}'
    root = _synthetic_root(name, tmp_path)
    cfg = shrink_config(cfg, tmp_path / 'work', data_root=str(root), iters=2, crop=CROP)
    if name == 'gvlm':
        _set_all(cfg, tile_dir=f'tiles_{CROP}')
    # a tiny U-Net: the point is the data path, not the model
    cfg.model.backbone.base_channels = 4
    cfg.model.decode_head.in_channels = 4
    cfg.model.decode_head.channels = 4
    init_default_scope('mmseg')
    sample = DATASETS.build(cfg.train_dataloader.dataset)[0]
    x = sample['inputs']
    assert x.shape[0] == base.in_channels and x.dtype.is_floating_point
    meta = sample['data_samples'].metainfo
    assert meta['band_names'] == list(base.bands)
    assert {k: list(v) for k, v in meta['stream_layout'].items()} == base.stream_layout
    runner = build_runner(cfg)
    runner.train()
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert math.isfinite(loss) and loss > 0
    assert (tmp_path / 'work' / 'iter_2.pth').is_file()
    # validation ran on the val split through the test pipeline and scored every sample
    iou = runner.message_hub.get_scalar('val/IoU').current()
    assert 0 <= iou <= 100


def test_gvlm_prepost_config_gives_two_streams(tmp_path):
    cfg = Config.fromfile(str(Path(REPO, 'configs/_base_/datasets/gvlm_prepost.py')))
    assert cfg.in_channels == 6
    root = _synthetic_root('gvlm', tmp_path)
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.update(data_root=str(root), tile_dir=f'tiles_{CROP}')
    init_default_scope('mmseg')
    ds = DATASETS.build(ds_cfg)
    out = ds[0]
    assert tuple(out['inputs'].shape) == (6, CROP, CROP)
    assert out['data_samples'].metainfo['stream_layout'] == {'optical': [0, 1, 2],
                                                             'pre': [3, 4, 5]}
