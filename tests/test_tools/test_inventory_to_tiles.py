"""tools/dataset_converters/inventory_to_tiles.py: the config's windows as CAS-layout tiles."""
from pathlib import Path

import numpy as np
import pytest
import rasterio
from helpers import REPO, load_script
from mmengine.config import Config

from lszoo.datasets.synthetic_writers import write_synthetic_dataset



def _tool():
    mod = load_script('tools/dataset_converters/inventory_to_tiles.py')
    return mod


def test_exports_each_split_as_img_and_mask_tiles(tmp_path):
    root = write_synthetic_dataset('inventory', tmp_path / 'data', size=32, seed=0)
    cfg = Config.fromfile(str(Path(REPO, 'configs', 'timm_unet', 'timm_unet_inventory.py')))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.update(data_root=str(root), window_size=32, block_size=320)
    counts = _tool().export(cfg, tmp_path / 'tiles', ('train', 'test'), name='area')
    assert counts['train'] > counts['test'] > 0
    for split, n in counts.items():
        imgs = sorted((tmp_path / 'tiles' / f'area_{split}' / 'img').glob('*.tif'))
        masks = sorted((tmp_path / 'tiles' / f'area_{split}' / 'mask').glob('*.tif'))
        assert len(imgs) == n and [p.name for p in imgs] == [p.name for p in masks]
    with rasterio.open(imgs[0]) as img, rasterio.open(masks[0]) as mask:
        assert img.count == 5 and img.crs.to_epsg() == 32645 and img.width <= 32
        assert (img.width, img.height, img.transform) == (mask.width, mask.height, mask.transform)
        assert set(np.unique(mask.read(1)).tolist()) <= {0, 1, 255}
    # every landslide pixel of the test blocks was exported once: tiles do not overlap
    total = sum(int((rasterio.open(p).read(1) == 1).sum()) for p in masks)
    assert total > 0
    assert not list((tmp_path / 'tiles').rglob('*.lszoo-tmp-*'))  # no temporary left


def test_config_without_inventory_dataset_is_an_error(tmp_path, capsys):
    tool = _tool()
    rc = tool.main([str(Path(REPO, 'configs', 'demo', 'unet_synthetic.py')), str(tmp_path)])
    assert rc == 2
    assert 'does not read an InventoryDataset' in capsys.readouterr().err


@pytest.mark.parametrize('bad', ['missing.py'])
def test_missing_config(tmp_path, capsys, bad):
    assert _tool().main([str(tmp_path / bad), str(tmp_path / 'o')]) == 2
    assert 'missing.py does not exist' in capsys.readouterr().err
