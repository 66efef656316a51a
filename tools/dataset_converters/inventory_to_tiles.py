"""Export the windows of an own-data config (InventoryDataset) as CAS-layout tiles.

For people who want files: the windows the config's datasets read on the fly (the fixed grid
of each split's spatial blocks, or of its scenes; train is exported as a grid too, not as random
windows) are written as ::

    OUT/<name>_<split>/img/<name>_<split>_<NNNNN>.tif   float32, the config's bands, georeferenced
    OUT/<name>_<split>/mask/<name>_<split>_<NNNNN>.tif  uint8 0 background, 1 landslide, 255 ignored

one CAS-style sub-dataset per split (img/ + mask/ with the same file names), values as loaded
(nodata filled, not normalised). Every tile is written to a temporary name and renamed, so an
interrupted export never leaves a half-written tile. Read them back with ``CASLandslideDataset``
(``mask_map={0: 0, 1: 1, 255: 255}``) or any tile reader::

    python tools/dataset_converters/inventory_to_tiles.py configs/timm_unet/timm_unet_inventory.py \
        data/inventory_tiles --splits train val test
"""
import argparse
import sys
from pathlib import Path

from lszoo.errors import ConfigError


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Export InventoryDataset windows as CAS-layout '
                                'GeoTIFF tiles (img/ + mask/ per split).')
    p.add_argument('config', help='config whose loaders read an InventoryDataset')
    p.add_argument('out', help='output folder')
    p.add_argument('--splits', nargs='+', default=['train', 'val', 'test'],
                   choices=['train', 'val', 'test', 'all'])
    p.add_argument('--name', default='inventory', help='tile name prefix / sub-dataset name')
    p.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                   help='override config keys, as in tools/train.py')
    return p.parse_args(argv)


def _dataset_cfg(cfg, split: str) -> dict:
    loader = cfg.get({'train': 'train_dataloader', 'val': 'val_dataloader'}.get(
        split, 'test_dataloader'))
    ds = loader.dataset if loader is not None else None
    while ds is not None and 'dataset' in ds:
        ds = ds.dataset
    if ds is None or ds.get('type') != 'InventoryDataset':
        raise ConfigError(f'{cfg.filename}: the {split} loader does not read an '
                          'InventoryDataset (configs/_base_/datasets/inventory.py)')
    ds = dict(ds)
    ds.update(split=split, sampling='grid', pipeline=[])
    return ds


def _write(path: Path, arr, transform, crs, dtype, nodata=None) -> None:
    import rasterio

    from lszoo.utils.fileio import atomic_path
    with atomic_path(path) as tmp, rasterio.open(
            tmp, 'w', driver='GTiff', width=arr.shape[-1], height=arr.shape[-2],
            count=arr.shape[0], dtype=dtype, crs=crs, transform=transform, nodata=nodata,
            compress='deflate') as dst:
        dst.write(arr.astype(dtype, copy=False))


def export(cfg, out, splits=('train', 'val', 'test'), name='inventory') -> dict:
    """Write the tiles of each split; returns ``{split: number of tiles}``."""
    import numpy as np
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    from rasterio import Affine

    import lszoo  # noqa: F401  (registers the dataset and the loading transform)
    from lszoo.datasets.transforms import LoadInventoryWindow
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    counts = {}
    for split in splits:
        ds = DATASETS.build(_dataset_cfg(cfg, split))
        load = LoadInventoryWindow(with_seg=True)
        sub = Path(out) / f'{name}_{split}'
        (sub / 'img').mkdir(parents=True, exist_ok=True)
        (sub / 'mask').mkdir(parents=True, exist_ok=True)
        for i in range(len(ds)):
            r = load(ds.get_data_info(i))
            stem = f'{name}_{split}_{i:05d}.tif'
            t = Affine(*r['transform'])
            _write(sub / 'img' / stem, np.moveaxis(r['img'], -1, 0), t, r['crs'], 'float32')
            _write(sub / 'mask' / stem, r['gt_seg_map'][None], t, r['crs'], 'uint8')
        counts[split] = len(ds)
        print(f'{split}: {len(ds)} tiles -> {sub}', flush=True)
    return counts


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmengine.config import Config, DictAction

    from lszoo.cli.tool import run_tool

    def body(a):
        if not Path(a.config).is_file():
            raise ConfigError(f'config file {a.config} does not exist')
        cfg = Config.fromfile(a.config)
        if a.cfg_options:
            opts = argparse.Namespace()
            DictAction(option_strings=[], dest='o')(None, opts, a.cfg_options)
            cfg.merge_from_dict(opts.o)
        export(cfg, a.out, a.splits, a.name)
        return 0

    return run_tool(body, args)


if __name__ == '__main__':
    sys.exit(main())
