"""Landslide inventory: polygons from a mask streamed block by block.

Whole-scene mapping (:mod:`lszoo.apis.scene_inference`) finishes the mask one block at a time and
never holds the whole scene, so the inventory is built the same way. Each finished block is
labelled into 4-connected components (the connectivity ``rasterio.features.shapes`` uses); a
component that does not touch an inner block edge is final at once; one that does is kept as a
piece and the pieces are merged with a union at the end, so a landslide that crosses block edges
comes out as one polygon, whatever the block size. Everything is traced in integer pixel
coordinates (exact in floating point, so neighbouring pieces share their edges exactly) and moved
to map coordinates with the raster's affine transform only when written.

Each polygon carries ``area`` (map units squared: m² in a projected CRS, pixels without a CRS),
``n_pixels`` and ``mean_prob`` (the mean landslide probability of its pixels).
"""
from __future__ import annotations

import os
import os.path as osp
from typing import List, Optional, Tuple

import cv2
import numpy as np
import rasterio.features
import shapely
from affine import Affine
from shapely.geometry import shape

from ..errors import DataError

VECTOR_DRIVERS = {'.gpkg': 'GPKG', '.geojson': 'GeoJSON', '.json': 'GeoJSON',
                  '.fgb': 'FlatGeobuf'}  # single-file formats only: written atomically


def vector_driver(path: str) -> str:
    """OGR driver for an inventory path, from its extension (``.gpkg``, ``.geojson``, ...)."""
    ext = osp.splitext(str(path))[1].lower()
    if ext not in VECTOR_DRIVERS:
        raise DataError(f'polygon output {path}: unknown extension {ext!r}; use one of '
                        f'{sorted(VECTOR_DRIVERS)}')
    return VECTOR_DRIVERS[ext]


class PolygonCollector:
    """Collect landslide polygons from finished mask blocks of one raster, streaming them out.

    Polygons that cannot grow any more are appended to ``path`` every ``flush_every`` polygons,
    so memory holds only those and the pieces on inner block edges (merged at :meth:`close`).

    Args:
        path: output file (written with ``driver``, default from the extension).
        height, width: raster size in pixels (to tell inner block edges from scene edges).
        transform: the raster's affine transform (pixel -> map coordinates).
        crs_wkt: the raster's CRS as WKT, or ``None`` for pixel coordinates.
    """

    def __init__(self, path: str, height: int, width: int, transform: Optional[Affine] = None,
                 crs_wkt: Optional[str] = None, driver: Optional[str] = None,
                 flush_every: int = 5000) -> None:
        self.path, self.crs_wkt = str(path), crs_wkt
        self.driver = driver or vector_driver(path)
        self.height, self.width = int(height), int(width)
        self.transform = transform if transform is not None else Affine.identity()
        self.flush_every = int(flush_every)
        self.count = 0
        self._final: List[Tuple[object, int, float]] = []  # (pixel-space polygon, n, prob sum)
        self._pieces: List[Tuple[object, int, float]] = []
        if osp.exists(self.path):
            os.remove(self.path)

    def add_block(self, mask: np.ndarray, prob: np.ndarray, row_off: int, col_off: int) -> None:
        """Add a finished block: ``mask`` (1 = landslide) and ``prob`` at ``(row_off, col_off)``."""
        fg = (mask == 1).astype(np.uint8)
        if not fg.any():
            return
        n, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=4,
                                                               ltype=cv2.CV_32S)
        counts = stats[:, cv2.CC_STAT_AREA]
        sums = np.bincount(labels.ravel(), weights=prob.astype(np.float64).ravel(), minlength=n)
        h, w = mask.shape
        x0, y0 = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
        x1 = x0 + stats[:, cv2.CC_STAT_WIDTH]
        y1 = y0 + stats[:, cv2.CC_STAT_HEIGHT]
        # touching an edge of this block that is not an edge of the scene: may continue beyond
        open_edge = (((x0 == 0) & (col_off > 0)) | ((y0 == 0) & (row_off > 0))
                     | ((x1 == w) & (col_off + w < self.width))
                     | ((y1 == h) & (row_off + h < self.height)))
        offset = Affine.translation(col_off, row_off)
        for geom, value in rasterio.features.shapes(labels, mask=labels > 0, connectivity=4,
                                                    transform=offset):
            lab = int(value)
            item = (shape(geom), int(counts[lab]), float(sums[lab]))
            (self._pieces if open_edge[lab] else self._final).append(item)
        if len(self._final) >= self.flush_every:
            self._write(self._final)
            self._final = []

    def _merged(self) -> List[Tuple[object, int, float]]:
        if not self._pieces:
            return []
        geoms = [g for g, _, _ in self._pieces]
        union = shapely.unary_union(geoms)
        parts = list(shapely.get_parts(union))
        tree = shapely.STRtree(parts)
        points = shapely.point_on_surface(np.array(geoms, dtype=object))
        owner = np.full(len(geoms), -1)
        src, dst = tree.query(points, predicate='within')
        owner[src] = dst
        if (owner < 0).any():  # cannot happen for pixel-aligned pieces; keep them unmerged
            bad = np.flatnonzero(owner < 0)
            owner[bad] = len(parts) + np.arange(len(bad))
            parts.extend(geoms[i] for i in bad)
        n = np.bincount(owner, weights=[c for _, c, _ in self._pieces], minlength=len(parts))
        s = np.bincount(owner, weights=[p for _, _, p in self._pieces], minlength=len(parts))
        return [(parts[i], int(n[i]), float(s[i])) for i in range(len(parts))]

    def _write(self, items) -> None:
        """Append ``items`` in map coordinates, with ids following those already written."""
        import pyogrio.raw

        if not items and self.count:
            return
        t = self.transform

        def to_map(xy):
            x, y = xy[:, 0], xy[:, 1]
            return np.column_stack([t.a * x + t.b * y + t.c, t.d * x + t.e * y + t.f])
        geoms = shapely.transform(np.array([g for g, _, _ in items], dtype=object), to_map)
        n_pixels = np.array([c for _, c, _ in items], dtype=np.int64)
        sums = np.array([p for _, _, p in items], dtype=np.float64)
        fields = dict(
            id=np.arange(self.count + 1, self.count + len(items) + 1, dtype=np.int64),
            area=shapely.area(geoms).astype(np.float64),
            n_pixels=n_pixels,
            mean_prob=(sums / np.maximum(n_pixels, 1)).astype(np.float64),
        )
        pyogrio.raw.write(
            self.path, geometry=shapely.to_wkb(geoms) if len(geoms) else np.array([], object),
            field_data=list(fields.values()), fields=list(fields.keys()), driver=self.driver,
            geometry_type='Polygon', crs=self.crs_wkt, layer='landslides',
            append=osp.exists(self.path))
        self.count += len(items)

    def close(self) -> int:
        """Write what is left (final polygons and merged edge pieces); return the polygon count."""
        items = self._final + self._merged()
        self._final, self._pieces = [], []
        if items or not osp.exists(self.path):
            self._write(items)
        return self.count
