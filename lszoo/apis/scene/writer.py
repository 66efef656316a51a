"""Writes the outputs of scene inference atomically: mask, probabilities, polygon inventory.

Every output is written under a hidden temporary name beside its final path and renamed over it
only when the whole scene succeeded, so an interrupted run never leaves a file under the final
name. Rasters are tiled, compressed GeoTIFFs on the input's grid; with ``cog`` (the default of
:func:`~lszoo.apis.scene.map_scene`) they are written to a tiled scratch file first and then
translated, streaming, to Cloud-Optimized GeoTIFFs with overviews (:mod:`lszoo.geo.cog`).
"""
import os
import os.path as osp
from contextlib import ExitStack, contextmanager
from typing import Iterator, List, Optional, Sequence

import numpy as np
import rasterio
from rasterio.windows import Window

from lszoo.errors import DataError
from lszoo.utils.fileio import atomic_path

from .options import OUT_BLOCK
from .outputs import remove_stale_parts
from .polygons import PolygonCollector, vector_driver

MASK_NODATA = 255


@contextmanager
def atomic_outputs(paths: Sequence[Optional[str]]) -> Iterator[List[Optional[str]]]:
    """Temporary paths beside each final path, renamed over them only if the block succeeds.

    The temporaries (:func:`lszoo.utils.fileio.atomic_path`) are removed on any error or
    interrupt, so an interrupted run never leaves a file under the final name. Those a killed
    run (SIGKILL: no cleanup) left behind are removed first, when their process is gone
    (:func:`~lszoo.apis.scene.outputs.remove_stale_parts`).
    """
    for p in paths:
        if p is None:
            continue
        d = osp.dirname(osp.abspath(p))
        if not osp.isdir(d):
            raise DataError(f'output folder {d} (for {p}) does not exist')
        remove_stale_parts(p)
    with ExitStack() as stack:
        # the temporaries keep the extension: OGR's GPKG driver checks it
        yield [None if p is None else stack.enter_context(
            atomic_path(osp.abspath(p), osp.splitext(p)[1])) for p in paths]


_ZSTD = None


def _remove_if_exists(path: str) -> None:
    if osp.exists(path):
        os.remove(path)


def _has_zstd() -> bool:
    """Whether this GDAL writes ZSTD-compressed GeoTIFFs (4x faster than deflate on floats)."""
    global _ZSTD
    if _ZSTD is None:
        try:
            with rasterio.open('/vsimem/lszoo_zstd_probe.tif', 'w', driver='GTiff', width=1,
                               height=1, count=1, dtype='float32', compress='zstd') as ds:
                ds.write(np.zeros((1, 1, 1), np.float32))
            _ZSTD = True
        except Exception:
            _ZSTD = False
    return _ZSTD


def raster_profile(src, dtype, nodata):
    """Tiled, compressed single-band GeoTIFF on the input's grid: deflate for the uint8 mask
    (readable everywhere), ZSTD (when available) for the float probabilities."""
    comp = dict(compress='deflate', zlevel=1)
    if dtype != 'uint8' and _has_zstd():
        comp = dict(compress='zstd', zstd_level=1)
    return dict(driver='GTiff', width=src.width, height=src.height, count=1, dtype=dtype,
                crs=src.crs, transform=src.transform, nodata=nodata, tiled=True,
                blockxsize=OUT_BLOCK, blockysize=OUT_BLOCK, BIGTIFF='IF_SAFER', **comp)


def prob_nodata_of(src) -> float:
    """Nodata of the probability raster: the input's, unless it could be a probability."""
    nd = src.nodata
    return float(nd) if nd is not None and np.isfinite(nd) and not (0 <= nd <= 1) else -1.0


class SceneWriter:
    """The open outputs of one scene (rank 0): ``write`` takes finished blocks, ``close``
    finishes the files (the caller's ``atomic_outputs`` then publishes them)."""

    def __init__(self, stack: ExitStack, src, paths: List[Optional[str]], has_nodata: bool,
                 polygons: Optional[str], opts=None):
        """``opts``: the run's :class:`~.options.SceneOptions` (``cog``, ``min_area``,
        ``fill_holes``); ``None``: plain GeoTIFFs, every polygon kept. ``paths[3]``, when
        given, is the uncertainty raster (:mod:`.uncertainty`: its kind follows ``opts.tta``)."""
        cog = bool(opts is not None and opts.cog)
        cleanup = {} if opts is None else dict(min_area=opts.min_area,
                                               fill_holes=opts.fill_holes)
        self.prob_nodata = prob_nodata_of(src) if has_nodata else None
        # with COG output the blocks go to a scratch file beside the temporary output
        self.cog_jobs = []
        paths = list(paths) + [None] * (4 - len(paths))
        targets = [paths[0], paths[1], None, paths[3]]
        if cog:
            for i, kind in ((0, 'mask'), (1, 'probability'), (3, 'probability')):
                if paths[i] is not None:
                    targets[i] = paths[i] + '.tiled'  # a temporary of the same output
                    self.cog_jobs.append((targets[i], paths[i], kind))
                    stack.callback(_remove_if_exists, targets[i])
        self.mask_ds = stack.enter_context(rasterio.open(
            targets[0], 'w', **raster_profile(src, 'uint8', MASK_NODATA if has_nodata else None)))
        from lszoo.geo.mask_style import PROBABILITY_DESCRIPTION, style_mask
        style_mask(self.mask_ds)  # colour table and band description
        self.prob_ds = None
        if paths[1] is not None:
            self.prob_ds = stack.enter_context(rasterio.open(
                targets[1], 'w', **raster_profile(src, 'float32', self.prob_nodata)))
            self.prob_ds.set_band_description(1, PROBABILITY_DESCRIPTION)
        self.unc_ds, self.unc_kind = None, None
        if paths[3] is not None:
            from .uncertainty import tag_uncertainty, uncertainty_kind
            tta = opts.tta if opts is not None else 'none'
            self.unc_kind = uncertainty_kind(tta)
            self.unc_ds = stack.enter_context(rasterio.open(
                targets[3], 'w', **raster_profile(src, 'float32', self.prob_nodata)))
            tag_uncertainty(self.unc_ds, self.unc_kind, tta)
        self.collector = None
        if polygons is not None:
            self.collector = PolygonCollector(paths[2], src.height, src.width, src.transform,
                                              src.crs.to_wkt() if src.crs else None,
                                              vector_driver(polygons), **cleanup)
            stack.callback(self.collector.abort)

    @property
    def needs_prob(self) -> bool:
        return (self.prob_ds is not None or self.collector is not None
                or self.unc_ds is not None)

    def write(self, mask: np.ndarray, prob: Optional[np.ndarray], valid: Optional[np.ndarray],
              y0: int, x0: int, times: dict) -> int:
        """Write one block (nodata where not ``valid``); returns its landslide pixel count."""
        import time

        from .uncertainty import split_block
        t0 = time.perf_counter()
        prob, unc = split_block(prob, self.unc_kind)
        if valid is not None:
            mask[~valid] = MASK_NODATA
            for layer in (prob, unc):
                if layer is not None:
                    layer[~valid] = self.prob_nodata
        win = Window(x0, y0, mask.shape[1], mask.shape[0])
        self.mask_ds.write(mask, 1, window=win)
        if self.prob_ds is not None:
            self.prob_ds.write(prob, 1, window=win)
        if self.unc_ds is not None:
            self.unc_ds.write(unc, 1, window=win)
        times['write'] += time.perf_counter() - t0
        if self.collector is not None:
            t0 = time.perf_counter()
            self.collector.add_block(mask, prob, y0, x0)
            times['polygons'] += time.perf_counter() - t0
        return int((mask == 1).sum())

    def close(self, times: dict) -> int:
        """Close the rasters and the inventory; returns the polygon count."""
        import time

        t0 = time.perf_counter()
        self.mask_ds.close()
        for ds in (self.prob_ds, self.unc_ds):
            if ds is not None:
                ds.close()
        times['write'] += time.perf_counter() - t0
        if self.cog_jobs:
            from lszoo.geo.cog import translate_to_cog
            t0 = time.perf_counter()
            from concurrent.futures import ThreadPoolExecutor
            zstd = _has_zstd()
            # mask and probabilities at once: GDAL releases the GIL while it copies
            with ThreadPoolExecutor(len(self.cog_jobs)) as pool:
                done = [pool.submit(translate_to_cog, tiled, out, kind, zstd=zstd)
                        for tiled, out, kind in self.cog_jobs]
            for job, (tiled, _, _) in zip(done, self.cog_jobs):
                job.result()  # the first error, as before
                os.remove(tiled)
            times['cog'] = time.perf_counter() - t0
        if self.collector is None:
            return 0
        t0 = time.perf_counter()
        n = self.collector.close()
        times['polygons'] += time.perf_counter() - t0
        return n
