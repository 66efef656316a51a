"""A scene quicklook PNG: the input's true colour, downsampled, with landslide outlines.

Both rasters are read decimated straight to the quicklook size (rasterio ``out_shape``; GDAL uses
overviews when the file has them, which the COG mask does), so memory is bounded by the quicklook,
not by the scene. Outlines are the boundary pixels of the downsampled mask (mask minus its
3 x 3 erosion), drawn in yellow; nodata is black.
"""
import os.path as osp
from typing import Optional, Sequence

import cv2
import numpy as np
import rasterio
from rasterio.enums import Resampling

from .display import pick_display_channels, stretch_to_uint8
from lszoo.utils.fileio import atomic_path

OUTLINE_RGB = (255, 230, 0)


def quicklook_shape(height: int, width: int, max_size: int):
    scale = min(1.0, max_size / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def write_quicklook(input_path: str, mask_path: str, out_png: str, max_size: int = 1024,
                    band_names: Optional[Sequence[str]] = None,
                    rgb_bands: Optional[Sequence[int]] = None, thickness: int = 2) -> str:
    """Write ``out_png`` (RGB of ``input_path`` + outlines of ``mask_path``'s landslides).

    Args:
        band_names: names of the input's bands (to find R, G, B or B4, B3, B2).
        rgb_bands: 0-based input band indices shown as R, G, B (overrides ``band_names``).
        max_size: longest side of the quicklook in pixels.
    """
    with rasterio.open(input_path) as src, rasterio.open(mask_path) as msk:
        h, w = quicklook_shape(src.height, src.width, max_size)
        names = list(band_names) if band_names else [d for d in src.descriptions if d] or None
        if names is not None and len(names) != src.count:
            names = None
        chans = pick_display_channels(src.count, names, None, rgb_bands)
        chans = [min(c, src.count - 1) for c in chans]
        img = src.read([c + 1 for c in chans], out_shape=(3, h, w),
                       resampling=Resampling.average).transpose(1, 2, 0).astype(np.float32)
        valid = src.dataset_mask(out_shape=(h, w), resampling=Resampling.nearest) > 0
        mask = msk.read(1, out_shape=(h, w), resampling=Resampling.mode)
    rgb = stretch_to_uint8(img)
    rgb[~valid] = 0
    land = (mask == 1).astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    edge = land & (1 - cv2.erode(land, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0))
    if thickness > 1:
        edge = cv2.dilate(edge, np.ones((thickness, thickness), np.uint8))
    rgb[edge.astype(bool)] = OUTLINE_RGB
    with atomic_path(out_png, '.png') as tmp:  # OpenCV picks the format by extension
        if not cv2.imwrite(tmp, np.ascontiguousarray(rgb[..., ::-1])):
            raise OSError(f'cannot write quicklook {out_png}')
    return out_png


def default_quicklook_path(mask_path: str) -> str:
    return osp.splitext(mask_path)[0] + '_quicklook.png'
