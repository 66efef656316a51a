"""Reads windows of a scene's model input: band plan, DEM warp, valid-data mask, nodata fill.

The model input is assembled in the config's band order (``bands`` of the dataset base config):
image bands from the input GeoTIFF (matched by name when ``input_bands`` or the GeoTIFF band
descriptions name them, otherwise in order), elevation bands (``DEM``) from a separate ``dem``
raster, reprojected and resampled to the image grid on the fly with a
:class:`rasterio.vrt.WarpedVRT`. Values must be on the scale the dataset's loading transform
produces. Holes (GDAL mask) are filled per tile with the band median, as the dataset loader does
(:func:`lszoo.datasets.io.fill_nodata`).
"""
import warnings
from contextlib import ExitStack
from typing import Optional, Sequence

import numpy as np
import rasterio
from rasterio.enums import MaskFlags, Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from lszoo.datasets.io import fill_nodata
from lszoo.errors import ConfigError, DataError

from .grid import Tile

DEM_BAND_NAMES = ('dem', 'elevation', 'height', 'dsm')


def has_georef(src) -> bool:
    return src.crs is not None or not src.transform.almost_equals(rasterio.Affine.identity())


def needs_mask(src) -> bool:
    return src.nodata is not None or any(MaskFlags.all_valid not in flags
                                         for flags in src.mask_flag_enums)


class SceneReader:
    """Reads windows of the model input, bands assembled in the config's order."""

    def __init__(self, stack: ExitStack, input_path: str, dem_path: Optional[str],
                 cfg_bands: Optional[Sequence[str]], in_channels: Optional[int],
                 input_bands: Optional[Sequence[str]]):
        try:
            self.src = stack.enter_context(rasterio.open(input_path))
        except rasterio.errors.RasterioIOError as err:
            raise DataError(f'cannot open input scene {input_path}: {err}') from None
        src = self.src
        self.path = input_path
        self.georef = has_georef(src)
        if not self.georef:
            warnings.warn(f'{input_path} has no georeferencing (no CRS, identity transform): '
                          'outputs are in pixel coordinates', UserWarning, stacklevel=3)
        self.dem = None
        if dem_path is not None:
            try:
                dem = stack.enter_context(rasterio.open(dem_path))
            except rasterio.errors.RasterioIOError as err:
                raise DataError(f'cannot open DEM {dem_path}: {err}') from None
            same_grid = (dem.width, dem.height) == (src.width, src.height) and (
                dem.transform.almost_equals(src.transform)) and dem.crs == src.crs
            if not same_grid:
                if not (self.georef and has_georef(dem)):
                    raise DataError(
                        f'DEM {dem_path} ({dem.width}x{dem.height}) is not on the grid of '
                        f'{input_path} ({src.width}x{src.height}) and one of them has no '
                        'georeferencing, so it cannot be resampled onto the image grid')
                # warped as float32; outside the DEM's extent: its nodata, NaN if it has none
                dem = stack.enter_context(WarpedVRT(
                    dem, crs=src.crs or dem.crs, transform=src.transform, width=src.width,
                    height=src.height, resampling=Resampling.bilinear, dtype='float32',
                    nodata=dem.nodata if dem.nodata is not None else float('nan')))
            self.dem = dem
        # which source band feeds each model channel
        names = list(cfg_bands) if cfg_bands else None
        n_img = src.count
        if names is None:
            n_dem = 1 if self.dem is not None else 0
            if in_channels is not None and n_img + n_dem != in_channels:
                raise DataError(f'{input_path} has {n_img} band(s)'
                                f'{" + 1 DEM band" if n_dem else ""}, the model expects '
                                f'{in_channels} channels')
            self.plan = [('img', i + 1) for i in range(n_img)] + [('dem', 1)] * n_dem
            self.band_names = [f'band{i + 1}' for i in range(n_img)] + ['DEM'] * n_dem
        else:
            dem_names = [b for b in names if b.lower() in DEM_BAND_NAMES]
            if self.dem is not None and not dem_names:
                raise DataError(f'--dem {dem_path} given, but the config bands {names} hold no '
                                f'elevation band (one of {DEM_BAND_NAMES})')
            img_names = [b for b in names if not (self.dem is not None and b in dem_names)]
            if input_bands is None:
                desc = [d for d in src.descriptions if d]
                if len(desc) == n_img and set(img_names) <= set(desc):
                    input_bands = list(src.descriptions)
            if input_bands is not None:
                input_bands = list(input_bands)
                if len(input_bands) != n_img:
                    raise DataError(f'{input_path} has {n_img} bands but {len(input_bands)} '
                                    f'band names were given: {input_bands}')
                missing = [b for b in img_names if b not in input_bands]
                if missing:
                    raise DataError(f'{input_path} lacks band(s) {missing} that the config '
                                    f'needs (its bands: {input_bands})')
                where = {b: input_bands.index(b) + 1 for b in img_names}
            else:
                unique = list(dict.fromkeys(img_names))
                if len(unique) != n_img:
                    raise DataError(
                        f'{input_path} has {n_img} band(s) but the config needs {len(unique)} '
                        f'image band(s) {unique}'
                        + (' (the DEM comes from --dem)' if self.dem is not None else
                           (' (pass the DEM with --dem?)' if dem_names else '')))
                where = {b: i + 1 for i, b in enumerate(unique)}
            self.plan = [('dem', 1) if (self.dem is not None and b in dem_names)
                         else ('img', where[b]) for b in names]
            self.band_names = names
        if in_channels is not None and len(self.plan) != in_channels:
            raise ConfigError(f'config bands {self.band_names} give {len(self.plan)} channels '
                              f'but the model expects in_channels={in_channels}')
        self.img_indexes = sorted({i for s, i in self.plan if s == 'img'})
        self.mask_sources = [s for s in (src, self.dem) if s is not None and needs_mask(s)]
        self.has_nodata = bool(self.mask_sources)

    def read(self, y0, y1, x0, x1) -> np.ndarray:
        """Model input ``C x h x w`` of rows ``y0:y1``, cols ``x0:x1``, in the sources' common
        dtype (converted to float32 tile by tile); non-finite values become 0."""
        win = Window(x0, y0, x1 - x0, y1 - y0)
        img = self.src.read(self.img_indexes, window=win)
        if self.plan == [('img', i) for i in self.img_indexes]:
            out = img  # the input's bands, in order: no copy
        else:
            pos = {b: k for k, b in enumerate(self.img_indexes)}
            dem = self.dem.read(1, window=win) if self.dem is not None else None
            dtype = np.result_type(img.dtype, *([dem.dtype] if dem is not None else []))
            out = np.empty((len(self.plan), y1 - y0, x1 - x0), dtype)
            for c, (s, i) in enumerate(self.plan):
                out[c] = img[pos[i]] if s == 'img' else dem
        if out.dtype.kind == 'f':
            bad = ~np.isfinite(out)
            if bad.any():
                out[bad] = 0
        return out

    def valid(self, y0, y1, x0, x1) -> Optional[np.ndarray]:
        """Boolean valid-data mask of the window (GDAL mask semantics), ``None`` if all valid."""
        if not self.has_nodata:
            return None
        win = Window(x0, y0, x1 - x0, y1 - y0)
        ok = np.ones((y1 - y0, x1 - x0), bool)
        for s in self.mask_sources:
            ok &= s.dataset_mask(window=win) > 0
        return ok



def tile_input(data: np.ndarray, valid: Optional[np.ndarray], t: Tile, y0: int, x0: int,
               tile: int) -> np.ndarray:
    """Tile ``t`` of a read window (``data`` ``C x h x w`` from row ``y0``, column ``x0``) as
    float32 ``tile x tile x C``: holes filled with the band median, edge tiles padded
    symmetrically to the full tile size."""
    a = data[:, t.y - y0:t.y - y0 + t.h, t.x - x0:t.x - x0 + t.w].transpose(1, 2, 0)
    if valid is not None:
        bad = ~valid[t.y - y0:t.y - y0 + t.h, t.x - x0:t.x - x0 + t.w]
        if bad.any():
            a = a.astype(np.float32)
            fill_nodata(a, bad)
    if (t.h, t.w) != (tile, tile):
        a = np.pad(a, ((0, tile - t.h), (0, tile - t.w), (0, 0)), mode='symmetric')
    return np.ascontiguousarray(a, dtype=np.float32)
