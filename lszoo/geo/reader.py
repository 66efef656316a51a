"""Reads windows of a model input from an image raster and optional auxiliary rasters.

The input is assembled by the band plan (:func:`lszoo.geo.bands.plan_bands`): image bands from
the image GeoTIFF, elevation from a separate DEM raster and, for a change model, the pre-event
bands from a pre-event image (:mod:`lszoo.geo.pre_event`); each auxiliary raster is reprojected
and resampled to the image grid on the fly with a :class:`rasterio.vrt.WarpedVRT`
(:func:`on_grid`, one mechanism for both). Values must be on the scale the
dataset's loading transform produces. Holes (GDAL mask) are filled per tile with the band
median, as the dataset loader does (:func:`lszoo.geo.nodata.fill_nodata`). Used by scene
inference and :class:`~lszoo.datasets.transforms.LoadInventoryWindow`.
"""
import warnings
from contextlib import ExitStack
from typing import Optional, Sequence

import numpy as np
import rasterio
from rasterio.enums import MaskFlags, Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from lszoo.errors import DataError, SceneWarning

from .bands import plan_bands
from .grid import Tile
from .nodata import fill_nodata
from .pre_event import check_same_bands, plan_pair_bands


def has_georef(src) -> bool:
    return src.crs is not None or not src.transform.almost_equals(rasterio.Affine.identity())


def needs_mask(src) -> bool:
    return src.nodata is not None or any(MaskFlags.all_valid not in flags
                                         for flags in src.mask_flag_enums)


def _open(stack: ExitStack, path: str, what: str):
    try:
        return stack.enter_context(rasterio.open(path))
    except rasterio.errors.RasterioIOError as err:
        raise DataError(f'cannot open {what} {path}: {err}') from None


def dem_cover_share(dem, src) -> float:
    """Share of ``src``'s extent that ``dem``'s extent covers (the DEM's bounds taken into the
    scene's CRS, densified at the edges). Both must have a CRS."""
    from rasterio.warp import transform_bounds
    left, bottom, right, top = transform_bounds(dem.crs, src.crs, *dem.bounds, densify_pts=21)
    sl, sb, sr, st = src.bounds
    area = (sr - sl) * (st - sb)
    w, h = min(right, sr) - max(left, sl), min(top, st) - max(bottom, sb)
    return 0.0 if w <= 0 or h <= 0 or area <= 0 else min(1.0, w * h / area)


def _check_placement(aux, aux_path: str, src, georef: bool, warn_partial: bool,
                     what: str = 'DEM') -> None:
    """An auxiliary raster (``what``: the DEM, the pre-event image) on another grid can be warped
    onto the scene only when both have a CRS, and must cover some of it; a partial cover is one
    :class:`~lszoo.errors.SceneWarning`."""
    if not (georef and has_georef(aux)):
        raise DataError(
            f'{what} {aux_path} ({aux.width}x{aux.height}) is not on the grid of {src.name} '
            f'({src.width}x{src.height}) and one of them has no georeferencing, so it cannot '
            'be resampled onto the image grid')
    for kind, path, ds in (('scene', src.name, src), (what, aux_path, aux)):
        if ds.crs is None:
            raise DataError(
                f'{kind} {path} has no CRS, so the {what} {aux_path} cannot be placed on the '
                f'grid of scene {src.name} (it is on another grid and would be warped as if '
                'both were in one CRS); set the CRS (gdal_edit.py -a_srs EPSG:<code>) or give '
                f'a {what} on the exact grid of the scene')
    share = dem_cover_share(aux, src)
    if share == 0:
        raise DataError(f'the {what} {aux_path} does not cover scene {src.name} ({what} bounds '
                        f'{tuple(round(v, 1) for v in aux.bounds)} in {aux.crs}, scene bounds '
                        f'{tuple(round(v, 1) for v in src.bounds)} in {src.crs})')
    if share < 0.9995 and warn_partial:
        warnings.warn(f'the {what} {aux_path} covers {100 * share:.1f}% of scene {src.name}: '
                      'the rest of the mask is nodata (255)', SceneWarning, stacklevel=4)


def on_grid(stack: ExitStack, aux, aux_path: str, src, georef: bool, warn_partial: bool = True,
            what: str = 'DEM'):
    """The open auxiliary raster ``aux`` (a DEM, a pre-event image) as a dataset on ``src``'s
    grid: itself when the grids match, else a :class:`~rasterio.vrt.WarpedVRT` (bilinear,
    float32) that warps each window as it is read, so memory does not grow with the scene.

    Raises :class:`DataError` when it cannot be placed (no CRS on either side) or covers none
    of the scene; ``warn_partial``: a :class:`SceneWarning` when it covers only part of it."""
    same_grid = (aux.width, aux.height) == (src.width, src.height) and (
        aux.transform.almost_equals(src.transform)) and aux.crs == src.crs
    if same_grid:
        return aux
    _check_placement(aux, aux_path, src, georef, warn_partial, what)
    # outside the raster's extent: its nodata, NaN if it has none (masked either way)
    return stack.enter_context(WarpedVRT(
        aux, crs=src.crs, transform=src.transform, width=src.width,
        height=src.height, resampling=Resampling.bilinear, dtype='float32',
        nodata=aux.nodata if aux.nodata is not None else float('nan'),
        **warp_scales(aux, src)))


def warp_scales(aux, src) -> dict:
    """GDAL's ``XSCALE``/``YSCALE`` warp options of the whole warp of ``aux`` onto ``src``'s grid
    (destination per source pixels, at most 1). GDAL otherwise takes the scale, which widens
    the bilinear kernel when a finer raster is reduced, from each read window, so a window read
    would differ from the same pixels of another window (by a fraction of a grey level);
    fixed, every window equals ``gdalwarp -r bilinear`` of the whole raster."""
    from rasterio.warp import transform_bounds
    left, bottom, right, top = transform_bounds(src.crs, aux.crs, *src.bounds, densify_pts=21)
    cols, rows = (right - left) / abs(aux.res[0]), (top - bottom) / abs(aux.res[1])
    return dict(XSCALE=min(1.0, src.width / cols), YSCALE=min(1.0, src.height / rows))


def open_on_grid(stack: ExitStack, path: str, src, georef: bool, warn_partial: bool = True,
                 what: str = 'DEM'):
    """The raster ``path`` opened and put on ``src``'s grid (:func:`on_grid`)."""
    return on_grid(stack, _open(stack, path, what), path, src, georef, warn_partial, what)


def open_dem_on_grid(stack: ExitStack, dem_path: str, src, georef: bool,
                     warn_partial: bool = True):
    """The DEM ``dem_path`` on ``src``'s grid (:func:`open_on_grid`)."""
    return open_on_grid(stack, dem_path, src, georef, warn_partial, 'DEM')


def check_pre_image(input_path: str, pre_path: str, warn_partial: bool = False) -> None:
    """Before any work: the pre-event image ``pre_path`` has the bands of the post-event image
    ``input_path`` (:func:`~lszoo.geo.pre_event.check_same_bands`) and overlaps it
    (:func:`on_grid`: a :class:`DataError` when it covers none of it; with ``warn_partial`` a
    :class:`SceneWarning` when it covers part of it)."""
    with ExitStack() as stack:
        src = _open(stack, input_path, 'input scene')
        pre = _open(stack, pre_path, 'pre-event image')
        check_same_bands(src, input_path, pre, pre_path)
        on_grid(stack, pre, pre_path, src, has_georef(src), warn_partial, 'pre-event image')


def _say_bands_by_position(path: str, src, plan) -> None:
    """One :class:`SceneWarning`: the scene's bands are taken in order as the config's."""
    img = list(dict.fromkeys(plan.band_names[c] for c, (s, _) in enumerate(plan.sources)
                             if s == 'img'))
    desc = [d for d in src.descriptions if d]
    why = f'its band descriptions {desc} do not name them' if desc else 'it has no band names'
    warnings.warn(f'{path}: {why}, so its {src.count} band(s) are taken by position as '
                  f'{img}; if they are in another order, name them with --bands (input_bands=)',
                  SceneWarning, stacklevel=4)


class SceneReader:
    """Reads windows of the model input, bands assembled in the config's order.

    Besides the input image, two auxiliary rasters on any grid are read through
    :func:`on_grid`: a DEM (``dem_path``) and, for a bi-temporal config, the pre-event image
    (``pre_path``; its channels are the ``pre`` stream of ``stream_layout``,
    :mod:`lszoo.geo.pre_event`). A pixel missing in any of them is nodata.
    ``warn_partial_dem=False`` leaves the warning about a raster covering part of the scene to
    the caller (:class:`~lszoo.datasets.InventoryDataset` says it once when it is built)."""

    def __init__(self, stack: ExitStack, input_path: str, dem_path: Optional[str],
                 cfg_bands: Optional[Sequence[str]], in_channels: Optional[int],
                 input_bands: Optional[Sequence[str]], warn_partial_dem: bool = True,
                 pre_path: Optional[str] = None, stream_layout=None):
        self.src = src = _open(stack, input_path, 'input scene')
        self.path, self.dem_path, self.pre_path = input_path, dem_path, pre_path
        self.georef = has_georef(src)
        if not self.georef:
            warnings.warn(f'{input_path} has no georeferencing (no CRS, identity transform): '
                          'outputs are in pixel coordinates', UserWarning, stacklevel=3)
        self.dem = None if dem_path is None else open_on_grid(
            stack, dem_path, src, self.georef, warn_partial_dem, 'DEM')
        self.pre = None
        if pre_path is None:
            plan = plan_bands(cfg_bands, src.count, input_bands, src.descriptions, dem_path,
                              input_path, in_channels)
        else:
            pre = _open(stack, pre_path, 'pre-event image')
            check_same_bands(src, input_path, pre, pre_path)
            plan = plan_pair_bands(cfg_bands, stream_layout, src.count, input_bands,
                                   src.descriptions, pre.descriptions, dem_path, input_path,
                                   pre_path, in_channels)
            self.pre = on_grid(stack, pre, pre_path, src, self.georef, warn_partial_dem,
                               'pre-event image')
        if plan.by_position:
            _say_bands_by_position(input_path, src, plan)
        self.plan, self.band_names = plan.sources, plan.band_names
        self.img_indexes = plan.img_indexes
        self.pre_indexes = sorted({i for s, i in plan.sources if s == 'pre'})
        self.mask_sources = [s for s in (src, self.dem, self.pre)
                             if s is not None and needs_mask(s)]
        self.has_nodata = bool(self.mask_sources)

    def _damaged(self, ds, err, y0, y1, x0, x1) -> DataError:
        path = {id(self.src): self.path, id(self.dem): self.dem_path,
                id(self.pre): self.pre_path}.get(id(ds), ds.name)
        cause = err.__cause__ or err  # rasterio's 'Read failed' wraps GDAL's own message
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else \
            type(err).__name__
        return DataError(f'{path}: reading rows {y0}:{y1}, columns {x0}:{x1} failed ({reason}): '
                         'the file is damaged or incomplete')

    def _read(self, ds, y0, y1, x0, x1, what='read', **kwargs):
        """``ds.read`` / ``ds.dataset_mask`` of a window; a failed read is one
        :class:`DataError` naming the file and the window."""
        win = Window(x0, y0, x1 - x0, y1 - y0)
        try:
            return getattr(ds, what)(window=win, **kwargs)
        except rasterio.errors.RasterioError as err:
            raise self._damaged(ds, err, y0, y1, x0, x1) from None

    def read(self, y0, y1, x0, x1) -> np.ndarray:
        """Model input ``C x h x w`` of rows ``y0:y1``, cols ``x0:x1``, in the sources' common
        dtype (converted to float32 tile by tile); non-finite values become 0."""
        img = self._read(self.src, y0, y1, x0, x1, indexes=self.img_indexes)
        if self.plan == [('img', i) for i in self.img_indexes]:
            out = img  # the input's bands, in order: no copy
        else:
            parts = {'img': (img, self.img_indexes)}
            if self.dem is not None:
                parts['dem'] = (self._read(self.dem, y0, y1, x0, x1, indexes=[1]), [1])
            if self.pre is not None:
                parts['pre'] = (self._read(self.pre, y0, y1, x0, x1, indexes=self.pre_indexes),
                                self.pre_indexes)
            dtype = np.result_type(*(a.dtype for a, _ in parts.values()))
            out = np.empty((len(self.plan), y1 - y0, x1 - x0), dtype)
            for c, (s, i) in enumerate(self.plan):
                arr, indexes = parts[s]
                out[c] = arr[indexes.index(i)]
        if out.dtype.kind == 'f':
            bad = ~np.isfinite(out)
            if bad.any():
                out[bad] = 0
        return out

    def valid(self, y0, y1, x0, x1, dem: bool = True) -> Optional[np.ndarray]:
        """Boolean valid-data mask of the window (GDAL mask semantics: the input, the pre-event
        image and, with ``dem``, the DEM), ``None`` if all valid."""
        sources = [s for s in self.mask_sources if dem or s is not self.dem]
        if not sources:
            return None
        ok = np.ones((y1 - y0, x1 - x0), bool)
        for s in sources:
            ok &= self._read(s, y0, y1, x0, x1, 'dataset_mask') > 0
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
