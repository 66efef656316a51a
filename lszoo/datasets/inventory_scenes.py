"""Finding and checking the GeoTIFF scenes of an :class:`~lszoo.datasets.InventoryDataset`.

Only headers are read here (CRS, geotransform, size, band count and descriptions).
"""
import glob
from pathlib import Path
from typing import List, Sequence, Union

from lszoo.errors import DataError


def find_scenes(scenes: Union[str, Sequence[str]]) -> List[str]:
    """A list of GeoTIFF paths, a folder (``*.tif``/``*.tiff`` inside) or a glob -> paths."""
    items = [scenes] if isinstance(scenes, (str, Path)) else list(scenes)
    out = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(str(f) for f in p.iterdir() if f.suffix.lower() in ('.tif', '.tiff'))
        elif any(c in str(item) for c in '*?['):
            found = sorted(glob.glob(str(item)))
        elif p.is_file():
            found = [str(p)]
        else:
            raise DataError(f'scene {item}: file not found')
        if not found:
            raise DataError(f'scenes {item}: no GeoTIFF (.tif/.tiff) found there')
        out.extend(found)
    return out


def under_root(root, path):
    """``path`` relative to ``root`` unless absolute (or None)."""
    if path is None or Path(str(path)).is_absolute():
        return path
    return str(Path(root) / str(path))


def apply_affine(aff, x, y):
    """Affine transform of one point."""
    return aff.a * x + aff.b * y + aff.c, aff.d * x + aff.e * y + aff.f


def scene_header(path: str) -> dict:
    import rasterio
    try:
        with rasterio.open(path) as src:
            h = dict(path=path, crs=src.crs, transform=src.transform, width=src.width,
                     height=src.height, count=src.count, bounds=tuple(src.bounds),
                     descriptions=tuple(src.descriptions))
    except rasterio.errors.RasterioIOError as exc:
        raise DataError(f'{path}: unreadable scene: {exc}') from None
    if h['crs'] is None:
        raise DataError(f'{path}: the scene has no CRS; an inventory cannot be matched to it')
    t = h['transform']
    if t.b != 0 or t.d != 0 or t.e >= 0:
        raise DataError(f'{path}: rotated or south-up geotransform {tuple(t)[:6]}; warp it to '
                        'a north-up grid first (gdalwarp)')
    return h
