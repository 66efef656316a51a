"""A scene quicklook PNG: a map figure of the landslides over the input's true colour.

The figure (:mod:`.map_figure`) has a title, a legend, a scale bar, a graticule with ticks in the
CRS units, a north arrow (north-up grids) and nodata in grey. Memory is bounded by the figure,
not by the scene: the imagery is read decimated straight to the panel size (rasterio
``out_shape``; GDAL uses overviews when the file has them), and the mask is read in strips of
full-resolution rows (:func:`mask_cells`) so that a landslide of one pixel still marks its cell:
decimated reads (and the mask's mode-resampled overviews) would drop it. Landslide outlines are
the boundary cells of that "any landslide" map, widened to at least 3 x 3 figure pixels.
"""
import os.path as osp
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.windows import Window

from lszoo.utils.fileio import atomic_path

from .display import pick_display_channels, stretch_to_uint8
from .map_figure import OUTLINE_RGB, compose, figure_layout, render_map  # noqa: F401

MASK_NODATA = 255


def mask_cells(ds, shape: Tuple[int, int], budget: int = 1 << 22):
    """Per cell of a ``shape`` grid over mask ``ds``: whether any pixel is landslide, whether
    most are nodata; plus the scene's landslide and valid pixel counts. Reads strips of whole
    rows of about ``budget`` pixels."""
    H, W = ds.height, ds.width
    h, w = shape
    rows = np.floor(np.arange(h + 1) * H / h).astype(np.int64)
    cols = np.floor(np.arange(w) * W / w).astype(np.int64)
    widths = np.diff(np.r_[cols, W])
    land = np.zeros((h, w), bool)
    nodata = np.zeros((h, w), bool)
    n_land = n_valid = 0
    per_row = W * max(1, -(-H // h))
    step = max(1, budget // per_row)
    for i0 in range(0, h, step):
        i1 = min(h, i0 + step)
        a = ds.read(1, window=Window(0, int(rows[i0]), W, int(rows[i1] - rows[i0])))
        starts = rows[i0:i1] - rows[i0]
        is_land, is_nd = a == 1, a == MASK_NODATA
        land[i0:i1] = np.logical_or.reduceat(np.logical_or.reduceat(is_land, starts, 0), cols, 1)
        nd = np.add.reduceat(np.add.reduceat(is_nd.astype(np.int32), starts, 0), cols, 1)
        cell = np.diff(rows[i0:i1 + 1])[:, None] * widths[None, :]
        nodata[i0:i1] = 2 * nd > cell
        n_land += int(is_land.sum())
        n_valid += int(a.size - is_nd.sum())
    return land, nodata, n_land, n_valid


def outline_cells(land: np.ndarray, thickness: int = 2) -> np.ndarray:
    """Boundary cells of ``land`` widened by ``thickness - 1`` cells on each side (a single
    landslide cell becomes a ``2 * thickness - 1`` square)."""
    land = land.astype(np.uint8)
    edge = land & (1 - cv2.erode(land, np.ones((3, 3), np.uint8),
                                 borderType=cv2.BORDER_CONSTANT, borderValue=0))
    if thickness > 1:
        edge = cv2.dilate(edge, np.ones((3, 3), np.uint8), iterations=thickness - 1)
    return edge.astype(bool)


def _read_rgb(src, shape, band_names, rgb_bands) -> np.ndarray:
    names = list(band_names) if band_names else [d for d in src.descriptions if d] or None
    if names is not None and len(names) != src.count:
        names = None
    chans = [min(c, src.count - 1) for c in pick_display_channels(src.count, names, None,
                                                                  rgb_bands)]
    img = src.read([c + 1 for c in chans], out_shape=(3, ) + tuple(shape),
                   resampling=Resampling.average).transpose(1, 2, 0).astype(np.float32)
    return stretch_to_uint8(img)


def _georeference(ds) -> dict:
    """How the figure labels the mask's grid: ``bounds`` (left, bottom, right, top), ``unit``,
    ``metres_per_unit`` (x; ``None`` without a CRS), ``north_up``, ``axis_labels`` and the
    ``pixel_m2`` area of a pixel (``None`` without a CRS)."""
    t, crs = ds.transform, ds.crs
    if crs is None or t.is_identity:
        return dict(bounds=(0, ds.height, ds.width, 0), unit='px', metres_per_unit=None,
                    north_up=False, axis_labels=('column', 'row'), pixel_m2=None)
    north_up = t.b == 0 and t.d == 0 and t.e < 0
    if crs.is_geographic:  # metres per degree on a sphere, longitude at the scene's latitude
        lat = (ds.bounds.bottom + ds.bounds.top) / 2
        per_x = 111320.0 * np.cos(np.radians(lat))
        return dict(bounds=tuple(ds.bounds), unit='degrees', metres_per_unit=per_x,
                    north_up=north_up, axis_labels=('longitude', 'latitude'),
                    pixel_m2=abs(t.a) * per_x * abs(t.e) * 111320.0)
    name, factor = crs.linear_units_factor
    return dict(bounds=tuple(ds.bounds), unit='m' if factor == 1.0 else name,
                metres_per_unit=factor, north_up=north_up, axis_labels=('easting', 'northing'),
                pixel_m2=abs(t.a * t.e) * factor ** 2)


def write_quicklook(input_path: str, mask_path: str, out_png: str, max_size: int = 1024,
                    band_names: Optional[Sequence[str]] = None,
                    rgb_bands: Optional[Sequence[int]] = None, thickness: int = 2,
                    title: Optional[str] = None) -> str:
    """Write ``out_png``, the map figure of ``mask_path``'s landslides over ``input_path``.

    Args:
        band_names: names of the input's bands (to find R, G, B or B4, B3, B2).
        rgb_bands: 0-based input band indices shown as R, G, B (overrides ``band_names``).
        max_size: longest side of the whole figure in pixels.
        title: the figure's title (default: ``Landslides: <input file name>``).
    """
    # a small GDAL block cache: the reads are single passes, the default cache is 5 % of RAM
    with rasterio.Env(GDAL_CACHEMAX=64), rasterio.open(input_path) as src, \
            rasterio.open(mask_path) as msk:
        layout = figure_layout(msk.height, msk.width, max_size)
        shape = (min(layout[0], msk.height), min(layout[1], msk.width))
        rgb = _read_rgb(src, shape, band_names, rgb_bands)
        land, nodata, n_land, n_valid = mask_cells(msk, shape)
        geo = _georeference(msk)
        size = f'{msk.width} x {msk.height} px'
    if shape != layout[:2]:  # a scene smaller than the panel: enlarge, outline at display scale
        rgb, land, nodata = (cv2.resize(a.astype(np.uint8), layout[1::-1],
                                        interpolation=cv2.INTER_NEAREST)
                             for a in (rgb, land, nodata))
        land, nodata = land.astype(bool), nodata.astype(bool)
    panel = compose(rgb, outline_cells(land, thickness), nodata)
    px_m2 = geo.pop('pixel_m2')
    area = f'{n_land * px_m2 / 1e6:.3g} km²' if px_m2 else f'{n_land} px'
    share = 100.0 * n_land / max(n_valid, 1)
    pixels = render_map(
        panel, geo.pop('bounds'), layout,
        title=title or f'Landslides: {osp.basename(input_path)}',
        subtitle=f'mapped landslide area {area} ({share:.2f} % of the valid area); {size}',
        **geo)
    with atomic_path(out_png, '.png') as tmp:  # OpenCV picks the format by extension
        if not cv2.imwrite(tmp, np.ascontiguousarray(pixels[..., ::-1])):
            raise OSError(f'cannot write quicklook {out_png}')
    return out_png


def default_quicklook_path(mask_path: str) -> str:
    return osp.splitext(mask_path)[0] + '_quicklook.png'
