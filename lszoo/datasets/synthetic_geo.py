"""A synthetic georeferenced scene pair with a separate DEM and a polygon inventory.

The own-data workflow (:class:`~lszoo.datasets.InventoryDataset`, ``tools/infer_scene.py``)
needs real-world files: GeoTIFF scenes in a projected CRS, a DEM on another grid and an
inventory in another CRS. This writes them from :func:`~lszoo.datasets.synthetic.generate_scene`
so the whole path runs without downloads::

    python -m lszoo.datasets.synthetic_geo data/inventory_synthetic

writes ``scenes/scene_a.tif`` and ``scenes/scene_b.tif`` (uint16 reflectance x 10000, bands
``B2 B3 B4 B8`` named in the band descriptions, nodata 0, EPSG:32645, 10 m, side by side 1 km
apart), ``dem.tif`` (float32 metres, EPSG:32645 on a 20 m grid offset from the scenes', covering
both) and ``inventory.gpkg`` (layer ``landslides``, EPSG:4326, fields ``type`` and ``scene``).
Each scene is a mosaic of 512-pixel generated scenes (see :func:`_mosaic`).
"""
import argparse
import sys
from pathlib import Path

import numpy as np

from lszoo.utils.fileio import atomic_path
from .synthetic import S2_BANDS, generate_scene

BANDS = ('B2', 'B3', 'B4', 'B8')
CRS = 'EPSG:32645'  # UTM 45N (central Nepal)
ORIGIN = (500000.0, 3100000.0)  # upper-left corner of scene_a
GAP = 1000.0  # metres between the two scenes


def _scene_transform(index: int, size: int, pixel: float):
    from rasterio.transform import from_origin
    x0 = ORIGIN[0] + index * (size * pixel + GAP)
    return from_origin(x0, ORIGIN[1], pixel, pixel)


def _mosaic(seed: int, size: int, tiles: int, pixel: float):
    """``(s2, dem, mask)`` of a ``size`` scene made of ``tiles x tiles`` generated scenes.

    One generated scene holds 2 to 6 landslides whatever its size, so a large scene is a mosaic
    of smaller ones (more, smaller landslides, as in real inventories); each tile's DEM is
    shifted to a common mean elevation so the seams are small steps, not cliffs.
    """
    step = size // tiles
    s2 = np.zeros((size, size, len(BANDS)), np.float32)
    dem = np.zeros((size, size), np.float32)
    mask = np.zeros((size, size), np.uint8)
    for i in range(tiles):
        for j in range(tiles):
            sc = generate_scene(seed + i * tiles + j, size=step, pixel_size=pixel)
            win = (slice(i * step, (i + 1) * step), slice(j * step, (j + 1) * step))
            s2[win] = sc.s2[..., [S2_BANDS.index(b) for b in BANDS]]
            dem[win] = sc.dem - sc.dem.mean() + 4800.0
            mask[win] = sc.mask
    return s2, dem, mask


def _write_scene(path: Path, s2, transform) -> None:
    import rasterio
    data = np.clip(np.round(s2 * 10000), 1, 65535).astype(np.uint16)  # 0 is nodata
    with atomic_path(path) as tmp, rasterio.open(
            tmp, 'w', driver='GTiff', width=data.shape[1], height=data.shape[0],
            count=len(BANDS), dtype='uint16', crs=CRS, transform=transform, nodata=0,
            tiled=True, blockxsize=256, blockysize=256, compress='deflate') as dst:
        dst.write(np.moveaxis(data, -1, 0))
        dst.descriptions = BANDS


def _write_dem(path: Path, dems, transforms, size: int, pixel: float) -> None:
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.transform import from_origin
    from rasterio.warp import reproject
    res = 2 * pixel
    left, top = ORIGIN[0] - 1005.0, ORIGIN[1] + 1005.0
    right = ORIGIN[0] + len(dems) * size * pixel + (len(dems) - 1) * GAP + 1005.0
    width = int(np.ceil((right - left) / res))
    height = int(np.ceil((size * pixel + 2010.0) / res))
    transform = from_origin(left, top, res, res)
    out = np.full((height, width), -9999.0, np.float32)
    for dem, t in zip(dems, transforms):
        part = np.full_like(out, -9999.0)
        reproject(dem, part, src_transform=t, src_crs=CRS, dst_transform=transform, dst_crs=CRS,
                  resampling=Resampling.average, src_nodata=None, dst_nodata=-9999.0)
        out = np.where(part != -9999.0, part, out)
    # beyond the scenes the terrain continues as the nearest known elevation (no cliffs)
    from scipy import ndimage
    idx = ndimage.distance_transform_edt(out == -9999.0, return_distances=False,
                                         return_indices=True)
    out = out[tuple(idx)]
    with atomic_path(path) as tmp, rasterio.open(
            tmp, 'w', driver='GTiff', width=width, height=height, count=1, dtype='float32',
            crs=CRS, transform=transform, nodata=-9999.0, compress='deflate') as dst:
        dst.write(out, 1)
        dst.descriptions = ('DEM',)


def _write_inventory(path: Path, masks, transforms, names) -> int:
    import shapely
    from pyogrio.raw import write
    from rasterio.features import shapes
    from .inventory_vector import reproject_geoms
    geoms, scene = [], []
    for mask, t, name in zip(masks, transforms, names):
        for geom, _ in shapes(mask, mask=mask > 0, transform=t):
            geoms.append(shapely.geometry.shape(geom))
            scene.append(name)
    geoms = reproject_geoms(geoms, CRS, 'EPSG:4326')
    with atomic_path(path, '.gpkg') as tmp:  # the GPKG driver wants the extension
        write(tmp, geometry=shapely.to_wkb(geoms),
              field_data=[np.array(['landslide'] * len(geoms), dtype=object),
                          np.array(scene, dtype=object)],
              fields=['type', 'scene'], crs='EPSG:4326', geometry_type='Polygon',
              driver='GPKG', layer='landslides')
    return len(geoms)


def write_georeferenced_pair(root, size: int = 2048, seed: int = 0, pixel: float = 10.0,
                             tiles: int = 0) -> Path:
    """Write the two scenes, the DEM and the inventory under ``root``; returns ``root``.

    ``tiles``: scenes are mosaics of ``tiles x tiles`` generated scenes (default: one tile per
    512 pixels, at least 1).
    """
    root = Path(root)
    tiles = tiles or max(1, size // 512)
    if size % tiles:
        raise ValueError(f'scene size {size} is not a multiple of tiles={tiles}')
    (root / 'scenes').mkdir(parents=True, exist_ok=True)
    names, dems, masks, transforms = ('scene_a', 'scene_b'), [], [], []
    for k, name in enumerate(names):
        s2, dem, mask = _mosaic(seed * 100003 + 7 + 1000 * k, size, tiles, pixel)
        t = _scene_transform(k, size, pixel)
        _write_scene(root / 'scenes' / f'{name}.tif', s2, t)
        dems.append(dem)
        masks.append(mask)
        transforms.append(t)
    _write_dem(root / 'dem.tif', dems, transforms, size, pixel)
    _write_inventory(root / 'inventory.gpkg', masks, transforms, names)
    return root


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('out', help='output folder')
    p.add_argument('--size', type=int, default=2048, help='scene size in pixels')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--tiles', type=int, default=0,
                   help='mosaic of TILES x TILES generated scenes (default: size // 512)')
    args = p.parse_args(argv)
    root = write_georeferenced_pair(args.out, args.size, args.seed, tiles=args.tiles)
    print(f'wrote {root}/scenes/scene_a.tif, scene_b.tif, dem.tif, inventory.gpkg')
    return 0


if __name__ == '__main__':
    sys.exit(main())
