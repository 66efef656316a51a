"""tools/analysis_tools/check_dataset.py on an inventory config reads every block of each scene,
so a damaged scene is named (issue 24, silently wrong #8), and takes --data-root."""
import os

import numpy as np
import shapely
from helpers import run_tool, write_scene
from mmengine.config import Config
from pyogrio.raw import write as write_vector
from rasterio.shutil import copy

from helpers import SCENE_CRS, SCENE_TRANSFORM


def _inventory_config(tmp_path):
    """A folder with two COG scenes and an inventory, and a config naming them relative to
    ``data_root``: ``(config, folder)``."""
    root = tmp_path / 'data'
    root.mkdir()
    for name, seed in (('a', 0), ('b', 1)):
        src, _ = write_scene(tmp_path / f'{name}_src.tif', 256, 256, bands=4, seed=seed)
        copy(src, str(root / f'{name}.tif'), driver='COG', blocksize=64, compress='deflate',
             overviews='none')
    x0, y0 = SCENE_TRANSFORM.c, SCENE_TRANSFORM.f
    geoms = np.array([shapely.box(x0 + 300, y0 - 900, x0 + 900, y0 - 300)], dtype=object)
    write_vector(str(root / 'inv.gpkg'), geometry=shapely.to_wkb(geoms),
                 field_data=[np.array(['slide'], dtype=object)], fields=['type'],
                 crs=SCENE_CRS.to_string(), geometry_type='Polygon', driver='GPKG')
    ds = dict(type='InventoryDataset', data_root='/nonexistent', scenes=['a.tif', 'b.tif'],
              inventory='inv.gpkg', split='all', split_mode='scenes',
              scene_splits=dict(train=['a.tif'], val=['b.tif'], test=['b.tif']),
              bands=['B2', 'B3', 'B4', 'B8'], scene_band_names=['B2', 'B3', 'B4', 'B8'],
              window_size=64, pipeline=[])
    cfg = dict(default_scope='mmseg', custom_imports=dict(imports=['lszoo']),
               test_dataloader=dict(batch_size=1, dataset=ds))
    path = tmp_path / 'inv_cfg.py'
    Config(cfg).dump(str(path))
    return str(path), root


def test_damaged_scene_is_named_and_data_root_is_taken(tmp_path):
    cfg, root = _inventory_config(tmp_path)
    res = run_tool('analysis_tools/check_dataset.py', cfg, '--data-root', root)
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'no problem found' in res.stdout and 'reading every block' in res.stderr
    scene = root / 'b.tif'
    with open(scene, 'r+b') as f:
        f.truncate(int(os.path.getsize(scene) * 0.6))
    res = run_tool('analysis_tools/check_dataset.py', cfg, '--data-root', root)
    assert res.returncode == 1, res.stderr[-3000:]
    assert f'{scene}: rows ' in res.stdout and 'the file is damaged or incomplete' in res.stdout
    assert 'a.tif: rows' not in res.stdout
