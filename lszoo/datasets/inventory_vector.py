"""Reading a landslide inventory (polygons in a GeoPackage, Shapefile, GeoJSON ...).

Through pyogrio's raw API (no geopandas needed) and shapely 2; coordinates are reprojected with
:func:`rasterio.warp.transform`, so no pyproj is needed either. Problems a hand-mapped inventory
often has are reported with the file name: an attribute filter that keeps nothing is an error;
empty, non-polygon and invalid geometries are dropped or repaired with one warning each.
"""
import warnings
from typing import Dict, Optional, Sequence, Union

import numpy as np

from lszoo.errors import ConfigError, DataError


class InventoryWarning(UserWarning):
    """An inventory or scene problem that lszoo repaired or worked around."""


def _filter_sql(attribute_filter: Union[None, str, Dict]) -> Optional[str]:
    """``attribute_filter`` -> OGR SQL ``where`` clause (a string is passed as is)."""
    if attribute_filter is None or isinstance(attribute_filter, str):
        return attribute_filter
    if not isinstance(attribute_filter, dict):
        raise ConfigError(f'attribute_filter must be an OGR SQL string or a dict column -> '
                          f'value(s), got {attribute_filter!r}')
    parts = []
    for col, val in attribute_filter.items():
        vals = list(val) if isinstance(val, (list, tuple, set)) else [val]
        lits = [f"'{v}'" if isinstance(v, str) else str(v) for v in vals]
        parts.append(f'"{col}" IN ({", ".join(lits)})')
    return ' AND '.join(parts)


def read_inventory(path, attribute_filter=None, layer=None):
    """Polygons of an inventory file and its CRS.

    Args:
        path: any vector file OGR reads (``.gpkg``, ``.shp``, ``.geojson`` ...).
        attribute_filter: an OGR SQL ``where`` string (``"type = 'slide' AND year >= 2015"``)
            or a dict ``{column: value or [values]}``.
        layer: layer name or index (default: the first).

    Returns:
        ``(geoms, crs_wkt)``: a numpy array of valid (Multi)Polygons and the file's CRS.
    """
    import shapely
    from pyogrio import read_info
    from pyogrio.raw import read
    path = str(path)
    where = _filter_sql(attribute_filter)
    try:
        info = read_info(path, layer=layer)
        meta, _, wkb, _ = read(path, layer=layer, where=where, read_geometry=True,
                               columns=[])
    except Exception as exc:  # pyogrio's DataSourceError / DataLayerError / FieldError
        extra = f' (attribute_filter -> where {where!r})' if where else ''
        raise DataError(f'{path}: cannot read the inventory{extra}: {exc}') from None
    crs = meta.get('crs') or info.get('crs')
    if not crs:
        raise DataError(f'{path}: the inventory has no CRS; set one (e.g. in QGIS: Layer '
                        'Properties > Source) so it can be matched to the scenes')
    n_all = int(info.get('features') or 0)
    if wkb is None or len(wkb) == 0:
        why = (f'the attribute filter {where!r} keeps none of its {n_all} features' if where
               else 'it has no features')
        raise DataError(f'{path}: no landslide polygons: {why}')
    geoms = shapely.from_wkb(wkb)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        warnings.warn(f'{path}: {int(empty.sum())} empty or missing geometr(y/ies) dropped',
                      InventoryWarning, stacklevel=2)
    geoms = geoms[~empty]
    kind = shapely.get_type_id(geoms)
    polygonal = np.isin(kind, (3, 6))  # Polygon, MultiPolygon
    if (~polygonal).any():
        names = sorted({shapely.get_type_id(g) for g in geoms[~polygonal]})
        warnings.warn(f'{path}: {int((~polygonal).sum())} non-polygon geometr(y/ies) (type ids '
                      f'{names}: points or lines) dropped; an inventory needs polygons',
                      InventoryWarning, stacklevel=2)
    geoms = geoms[polygonal]
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        reason = shapely.is_valid_reason(geoms[invalid][0])
        warnings.warn(f'{path}: {int(invalid.sum())} invalid polygon(s) repaired with '
                      f'shapely.make_valid (first: {reason})', InventoryWarning, stacklevel=2)
        fixed = shapely.make_valid(geoms[invalid])
        # make_valid may return collections with lines; keep the polygonal part
        geoms[invalid] = [shapely.union_all(shapely.get_parts(g)[np.isin(
            shapely.get_type_id(shapely.get_parts(g)), (3, 6))]) for g in fixed]
    geoms = geoms[~shapely.is_empty(geoms)]
    if len(geoms) == 0:
        raise DataError(f'{path}: no usable landslide polygon (all {n_all} features are empty, '
                        'not polygons or invalid)')
    return geoms, crs


def reproject_geoms(geoms: Sequence, src_crs, dst_crs) -> np.ndarray:
    """Reproject shapely geometries vertex by vertex (``rasterio.warp.transform``)."""
    import shapely
    from rasterio.crs import CRS
    from rasterio.warp import transform
    src, dst = CRS.from_user_input(src_crs), CRS.from_user_input(dst_crs)
    geoms = np.asarray(geoms, dtype=object)
    if src == dst:
        return geoms

    def move(xy):
        xs, ys = transform(src, dst, xy[:, 0], xy[:, 1])
        return np.column_stack([xs, ys])
    return shapely.transform(geoms, move)
