"""Landslide inventory: polygons from a mask streamed block by block.

Whole-scene mapping (:mod:`lszoo.apis.scene`) finishes the mask one block at a time and never holds
the whole scene, so the inventory is built the same way. Each finished block is labelled into
4-connected components (the connectivity ``rasterio.features.shapes`` uses); a component that does
not touch an inner block edge is final at once and is streamed to the output; one that does is kept
as a piece, and at the end the pieces that touch are grouped and merged with a union, so a landslide
that crosses block edges comes out as one polygon, whatever the block size. Everything is traced in
integer pixel coordinates (exact in floating point, so neighbouring pieces share their edges
exactly) and moved to map coordinates with the raster's affine transform only when written.

Each polygon carries ``area`` (map units squared: m² in a projected CRS, pixels without a CRS),
``n_pixels`` and ``mean_prob`` (the mean landslide probability of its pixels).

Map-product clean-up (:mod:`.polygon_filters`), applied to whole landslides (after the merge
across block edges): ``min_area`` drops landslides whose pixels cover less than that area,
``fill_holes`` fills holes smaller than that area (``area`` then includes them; ``n_pixels`` and
``mean_prob`` stay those of the landslide pixels). Both are in map units² and 0 by default (keep
everything); the mask is not changed.
"""
from __future__ import annotations

import json
import os
import os.path as osp
from typing import List, Optional, Tuple

import cv2
import numpy as np
import rasterio.features
import shapely
from affine import Affine
from shapely.geometry import shape

from lszoo.errors import DataError

from .polygon_filters import PolygonCleanup

# single-file formats that can be streamed: GeoPackage appends in constant time per batch;
# GeoJSON is written as text by lszoo itself (GDAL's GeoJSON append re-reads the whole file)
VECTOR_DRIVERS = {'.gpkg': 'GPKG', '.geojson': 'GeoJSON', '.json': 'GeoJSON'}


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
        min_area, fill_holes: minimum landslide area and largest hole filled, map units² (or
            ``'<n>px'``: ``n`` pixels); 0 keeps all.
    """

    def __init__(self, path: str, height: int, width: int, transform: Optional[Affine] = None,
                 crs_wkt: Optional[str] = None, driver: Optional[str] = None,
                 flush_every: int = 5000, min_area=0.0, fill_holes=0.0) -> None:
        self.path, self.crs_wkt = str(path), crs_wkt
        self.driver = driver or vector_driver(path)
        self.height, self.width = int(height), int(width)
        self.transform = transform if transform is not None else Affine.identity()
        self.flush_every = int(flush_every)
        self.cleanup = PolygonCleanup(self.transform, min_area, fill_holes)
        self.count = 0
        self._fh = None  # GeoJSON text stream
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
        """Merge the edge pieces that touch: only those groups go through a union."""
        if not self._pieces:
            return []
        geoms = np.array([g for g, _, _ in self._pieces], dtype=object)
        counts = np.array([c for _, c, _ in self._pieces], dtype=np.int64)
        sums = np.array([p for _, _, p in self._pieces], dtype=np.float64)
        a, b = shapely.STRtree(geoms).query(geoms, predicate='intersects')
        parent = np.arange(len(geoms))

        def find(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i
        for i, j in zip(a.tolist(), b.tolist()):
            if i < j:
                ri, rj = find(i), find(j)
                if ri != rj:
                    parent[max(ri, rj)] = min(ri, rj)
        roots = np.array([find(i) for i in range(len(geoms))])
        out = []
        for root in np.unique(roots):
            members = np.flatnonzero(roots == root)
            if len(members) == 1:
                k = members[0]
                out.append((geoms[k], int(counts[k]), float(sums[k])))
                continue
            # pieces meeting only at a corner stay apart (4-connectivity): one item per part
            parts = list(shapely.get_parts(shapely.unary_union(geoms[members])))
            if len(parts) == 1:
                out.append((parts[0], int(counts[members].sum()), float(sums[members].sum())))
                continue
            inside = shapely.contains(np.array(parts, dtype=object)[:, None],
                                      shapely.point_on_surface(geoms[members])[None, :])
            owner = inside.argmax(0)
            for k, part in enumerate(parts):
                sel = members[owner == k]
                out.append((part, int(counts[sel].sum()), float(sums[sel].sum())))
        return out

    def _write(self, items) -> None:
        """Append ``items`` in map coordinates, with ids following those already written."""
        import pyogrio.raw

        items = self.cleanup(items)
        if not items and (self.count or self._fh is not None):
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
        if self.driver == 'GeoJSON':
            self._geojson_append(geoms, fields)
            self.count += len(items)
            return
        pyogrio.raw.write(
            self.path, geometry=shapely.to_wkb(geoms) if len(geoms) else np.array([], object),
            field_data=list(fields.values()), fields=list(fields.keys()), driver=self.driver,
            geometry_type='Polygon', crs=self.crs_wkt, layer='landslides',
            append=osp.exists(self.path))
        self.count += len(items)

    def _geojson_append(self, geoms, fields) -> None:
        if self._fh is None:
            head = {'type': 'FeatureCollection', 'name': 'landslides'}
            epsg = None
            if self.crs_wkt:
                from rasterio.crs import CRS
                epsg = CRS.from_wkt(self.crs_wkt).to_epsg()
            if epsg is not None and epsg != 4326:  # as GDAL writes a non-WGS84 GeoJSON
                head['crs'] = {'type': 'name',
                               'properties': {'name': f'urn:ogc:def:crs:EPSG::{epsg}'}}
            self._fh = open(self.path, 'w', encoding='utf-8')
            self._fh.write(json.dumps(head)[:-1] + ', "features": [')
            self._sep = '\n'
        names = list(fields)
        cols = [fields[n].tolist() for n in names]
        parts = []
        for k, g in enumerate(shapely.to_geojson(geoms)):
            props = json.dumps({n: c[k] for n, c in zip(names, cols)})
            parts.append(f'{{"type": "Feature", "properties": {props}, "geometry": {g}}}')
        if parts:
            self._fh.write(self._sep + ',\n'.join(parts))
            self._sep = ',\n'

    def abort(self) -> None:
        """Close an open output stream (the caller removes the file)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def close(self) -> int:
        """Write what is left (final polygons and merged edge pieces); return the polygon count."""
        items = self._final + self._merged()
        self._final, self._pieces = [], []
        if items or not (osp.exists(self.path) or self._fh is not None):
            self._write(items)
        if self._fh is not None:
            self._fh.write('\n]}\n')
            self.abort()
        return self.count
