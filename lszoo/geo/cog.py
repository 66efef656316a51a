"""Cloud-Optimized GeoTIFF output: translate a finished tiled GeoTIFF with GDAL's COG driver.

Scene inference writes its rasters block by block into an ordinary tiled GeoTIFF (memory bounded
by the block); :func:`translate_to_cog` then copies that file with GDAL's ``COG`` driver, which
builds the overviews from the tiled file through GDAL's block cache and writes tiles, overviews
and the header in the COG order (``LAYOUT=COG``). The copy streams: its memory is bounded by
``GDAL_CACHEMAX``, not by the raster size. Masks get ``MODE`` overviews (a class per pixel, never
an in-between value), probabilities ``AVERAGE``; nodata is honoured by both.

:func:`cog_problems` checks a file with GDAL's own layout report (no rio-cogeo needed).
"""
import os.path as osp
from typing import List

import rasterio
import rasterio.shutil

COG_BLOCK = 512  # GDAL's COG default tile size
RESAMPLING = {'mask': 'MODE', 'probability': 'AVERAGE'}


def cog_options(kind: str, dtype: str, zstd: bool = False) -> dict:
    """COG creation options for a ``'mask'`` or ``'probability'`` raster of ``dtype``."""
    if kind not in RESAMPLING:
        raise ValueError(f"kind must be 'mask' or 'probability', got {kind!r}")
    opts = dict(BLOCKSIZE=COG_BLOCK, OVERVIEW_RESAMPLING=RESAMPLING[kind], BIGTIFF='IF_SAFER')
    if dtype == 'uint8' or not zstd:
        opts.update(COMPRESS='DEFLATE', LEVEL=6 if dtype == 'uint8' else 1)
    else:
        opts.update(COMPRESS='ZSTD', LEVEL=1)
    if dtype.startswith('float'):
        opts['PREDICTOR'] = 'YES'  # floating-point predictor: smaller, lossless
    return opts


def translate_to_cog(src: str, dst: str, kind: str, cache_mb: int = 64,
                     zstd: bool = False, threads='ALL_CPUS') -> None:
    """Copy the tiled GeoTIFF ``src`` to the COG ``dst`` (overwritten) with overviews.

    ``cache_mb`` bounds GDAL's block cache during the copy; ``threads`` (``GDAL_NUM_THREADS``)
    compress tiles and compute overviews in parallel (same bytes as one thread).
    """
    with rasterio.Env(GDAL_CACHEMAX=cache_mb, GDAL_NUM_THREADS=str(threads)):
        with rasterio.open(src) as ds:
            dtype = ds.dtypes[0]
        rasterio.shutil.copy(src, dst, driver='COG', **cog_options(kind, dtype, zstd))


def cog_problems(path: str, min_overview_size: int = COG_BLOCK) -> List[str]:
    """What keeps ``path`` from being a valid COG (an empty list when it is one).

    Checks GDAL's ``IMAGE_STRUCTURE`` report ``LAYOUT=COG`` (header and IFDs before the data,
    tiles in COG order), square power-of-two internal tiles, and overviews down to
    ``min_overview_size`` pixels for rasters larger than one tile.
    """
    problems = []
    if not osp.isfile(path):
        return [f'{path} does not exist']
    with rasterio.open(path) as ds:
        if ds.driver != 'GTiff':
            problems.append(f'driver is {ds.driver}, not GTiff')
        if ds.tags(ns='IMAGE_STRUCTURE').get('LAYOUT') != 'COG':
            problems.append('GDAL does not report LAYOUT=COG (not written by the COG driver or '
                            'modified since)')
        if not ds.profile.get('tiled'):
            problems.append('not tiled (stored in strips)')
        for bh, bw in ds.block_shapes:
            if bh != bw or bh & (bh - 1):
                problems.append(f'internal blocks {bh}x{bw} are not square power-of-two tiles')
        ovr = ds.overviews(1)
        if max(ds.width, ds.height) > ds.block_shapes[0][0]:
            if not ovr:
                problems.append('no overviews')
            elif max(ds.width, ds.height) / ovr[-1] > min_overview_size:
                problems.append(f'overviews stop at factor {ovr[-1]}: the smallest is larger '
                                f'than {min_overview_size} px')
    return problems
