"""File readers shared by the landslide datasets: HDF5 (h5py) and rasters (rasterio, TIFF/PNG).

Every reader turns a low-level failure (missing file, truncated file, wrong key, wrong shape)
into :class:`lszoo.errors.DataError` whose message names the file and the problem, so that a bad
file in a 20,000-tile dataset is found from the message alone.
"""
import warnings
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from lszoo.errors import DataError


def read_h5(path, key: str) -> np.ndarray:
    """Read dataset ``key`` of an HDF5 file as a numpy array (Landslide4Sense files)."""
    import h5py
    path = str(path)
    try:
        f = h5py.File(path, 'r')
    except FileNotFoundError:
        raise DataError(f'{path}: file not found') from None
    except OSError as exc:
        raise DataError(f'{path}: unreadable HDF5 file (truncated or not HDF5): {exc}') from None
    with f:
        if key not in f:
            raise DataError(f'{path}: HDF5 file has no dataset {key!r} '
                            f'(it holds {sorted(f.keys())})')
        try:
            return f[key][()]
        except (OSError, ValueError) as exc:
            raise DataError(f'{path}: cannot read dataset {key!r} (truncated file?): '
                            f'{exc}') from None


def read_raster(path, window=None) -> Tuple[np.ndarray, Dict]:
    """Read a TIFF/PNG with rasterio as ``H x W x C`` plus its georeferencing.

    Returns ``(array, meta)``; ``meta`` holds ``nodata``, ``alpha_band`` (index of the band the
    file marks as alpha, or None) and, only for georeferenced files,
    ``crs`` (WKT/EPSG string) and ``transform`` (the 6 affine coefficients ``a, b, c, d, e, f``).
    """
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioError
    path = str(path)
    if not Path(path).is_file():
        raise DataError(f'{path}: file not found')
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', NotGeoreferencedWarning)
            with rasterio.open(path) as src:
                arr = src.read(window=window)
                meta = {'nodata': src.nodata, 'alpha_band': alpha_band(src.colorinterp)}
                if src.crs is not None:
                    meta['crs'] = src.crs.to_string()
                    transform = src.transform
                    if window is not None:
                        transform = src.window_transform(window)
                    meta['transform'] = tuple(transform)[:6]
    except RasterioError as exc:
        raise DataError(f'{path}: unreadable raster (truncated or corrupt file): {exc}') from None
    return np.moveaxis(arr, 0, -1), meta


def alpha_band(colorinterp) -> Optional[int]:
    """0-based index of the band a raster marks as alpha (rasterio ``colorinterp``), or None."""
    from rasterio.enums import ColorInterp
    for i, ci in enumerate(colorinterp):
        if ci == ColorInterp.alpha:
            return i
    return None


def raster_shape(path) -> Tuple[int, int, int]:
    """``(height, width, bands)`` of a raster, reading only its header."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioError
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', NotGeoreferencedWarning)
            with rasterio.open(str(path)) as src:
                return src.height, src.width, src.count
    except RasterioError as exc:
        raise DataError(f'{path}: unreadable raster: {exc}') from None


def single_band(arr: np.ndarray, path, what: str) -> np.ndarray:
    """Reduce ``H x W x C`` to ``H x W`` for masks / DEMs stored as grey or replicated RGB."""
    if arr.ndim == 2:
        return arr
    if arr.ndim == 3 and arr.shape[2] == 1:
        return arr[..., 0]
    if arr.ndim == 3 and arr.shape[2] in (3, 4) and \
            np.array_equal(arr[..., 0], arr[..., 1]) and np.array_equal(arr[..., 0], arr[..., 2]):
        return arr[..., 0]
    raise DataError(f'{path}: {what} must have a single band, got shape {arr.shape}')


def map_mask(mask: np.ndarray, value_map: Dict[int, int], path,
             ignore_index: int = 255) -> np.ndarray:
    """Map raw mask values to 0/1/255 through ``value_map``; unknown values raise DataError."""
    mask = np.asarray(mask)
    if mask.dtype.kind == 'f':
        if np.isnan(mask).any():
            raise DataError(f'{path}: mask contains NaN')
        if not np.all(mask == np.round(mask)):
            raise DataError(f'{path}: mask has non-integer values; expected '
                            f'{sorted(value_map)}')
    values = np.unique(mask)
    bad = [v for v in values.tolist() if v not in value_map]
    if bad:
        raise DataError(f'{path}: mask values {bad[:10]} are outside the encoding '
                        f'{ {k: v for k, v in value_map.items()} } (raw value -> class)')
    out = np.empty(mask.shape, np.uint8)
    for raw, cls in value_map.items():
        out[mask == raw] = cls
    return out


def check_same_size(shape_a: Sequence[int], shape_b: Sequence[int], path_a, path_b,
                    what: str = 'mask') -> None:
    """Raise DataError when two rasters that must align differ in height/width."""
    if tuple(shape_a[:2]) != tuple(shape_b[:2]):
        raise DataError(f'{path_b}: {what} size {tuple(shape_b[:2])} differs from image '
                        f'{path_a} size {tuple(shape_a[:2])}')
