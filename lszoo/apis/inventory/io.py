"""Reading the two inventories ``tools/evaluate_inventory.py`` compares, in one projected CRS.

An inventory is a vector file (GeoPackage, Shapefile, GeoJSON ...: one landslide per feature)
or a mask GeoTIFF (pixels equal to 1 are landslide, as ``tools/infer_scene.py`` writes;
one landslide per 8-connected component, polygonised exactly on the pixel grid). Both are
reprojected to one projected CRS so that areas are in its units² (m²).
"""
import os.path as osp
import warnings
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from lszoo.datasets.inventory_vector import InventoryWarning, read_inventory, reproject_geoms
from lszoo.errors import DataError

RASTER_EXT = ('.tif', '.tiff', '.vrt', '.img')


class EmptyInventoryWarning(InventoryWarning):
    """An inventory holds no landslide (inside the area of interest)."""


class ExtentWarning(InventoryWarning):
    """The two inventories cover different extents (pass ``--aoi``)."""


@dataclass
class Inventory:
    """Landslide polygons of one file and where they came from."""

    path: str
    geoms: np.ndarray
    crs: object  # rasterio CRS
    extent: Optional[object] = None  # raster footprint polygon (file CRS), None for vectors


def is_raster(path: str) -> bool:
    return osp.splitext(str(path))[1].lower() in RASTER_EXT


def _mask_polygons(path: str):
    """8-connected landslides (value 1) of a mask GeoTIFF as polygons, with CRS and footprint."""
    import rasterio
    import rasterio.features
    import shapely
    from scipy import ndimage
    with rasterio.open(path) as src:
        if src.crs is None:
            raise DataError(f'{path}: the mask GeoTIFF has no CRS; it cannot be matched to '
                            'the other inventory')
        mask = src.read(1) == 1
        transform, crs = src.transform, src.crs
        footprint = shapely.box(*src.bounds)
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    parts = [[] for _ in range(n)]
    for geom, value in rasterio.features.shapes(labels.astype(np.int32), mask=labels > 0,
                                                connectivity=4, transform=transform):
        parts[int(value) - 1].append(shapely.geometry.shape(geom))
    geoms = np.array([p[0] if len(p) == 1 else shapely.union_all(p) for p in parts], object)
    return geoms, crs, footprint


def read_objects(path: str, role: str) -> Inventory:
    """The landslides of ``path`` (``role``: 'PRED' or 'REF', for messages)."""
    from rasterio.crs import CRS
    path = str(path)
    if not osp.exists(path):
        raise DataError(f'{role} {path}: no such file')
    if is_raster(path):
        geoms, crs, footprint = _mask_polygons(path)
        return Inventory(path, geoms, crs, footprint)
    import pyogrio
    try:
        info = pyogrio.read_info(path)
    except Exception as exc:
        raise DataError(f'{role} {path}: cannot read the inventory: {exc}') from None
    if not int(info.get('features') or 0):
        if not info.get('crs'):
            raise DataError(f'{role} {path}: the inventory has no CRS')
        return Inventory(path, np.zeros(0, object), CRS.from_user_input(info['crs']))
    with warnings.catch_warnings():
        warnings.simplefilter('always', InventoryWarning)
        geoms, crs = read_inventory(path)
    return Inventory(path, np.asarray(geoms, object), CRS.from_user_input(crs))


def target_crs(pred: Inventory, ref: Inventory, crs: Optional[str] = None):
    """The CRS both inventories are compared in: ``crs``, else the first projected one."""
    from rasterio.crs import CRS
    if crs is not None:
        try:
            out = CRS.from_user_input(crs)
        except Exception as exc:
            raise DataError(f'--crs {crs}: not a CRS ({exc})') from None
    else:
        out = next((c.crs for c in (pred, ref) if c.crs.is_projected), None)
        if out is None:
            raise DataError(f'neither {pred.path} nor {ref.path} is in a projected CRS, so '
                            'areas would be in degrees²; pass --crs (e.g. the local UTM zone, '
                            'EPSG:326NN)')
    if not out.is_projected:
        raise DataError(f'--crs {crs}: not a projected CRS; areas need one')
    return out


def _valid(geoms: np.ndarray) -> np.ndarray:
    """Polygonal, valid, non-empty geometries (reprojection can make a ring self-touch)."""
    import shapely
    if not len(geoms):
        return geoms
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad])
    out = []
    for g in geoms:
        parts = [p for p in shapely.get_parts(g) if p.geom_type in ('Polygon', 'MultiPolygon')]
        if parts:
            out.append(parts[0] if len(parts) == 1 else shapely.union_all(parts))
    return np.array(out, object)


def to_crs(inv: Inventory, crs) -> Inventory:
    """``inv`` reprojected to ``crs`` (its footprint too, densified so edges bend)."""
    import shapely
    try:
        geoms = _valid(reproject_geoms(inv.geoms, inv.crs, crs)) if len(inv.geoms) else inv.geoms
    except Exception as exc:  # rasterio's CPLE_AppDefinedError for out-of-range coordinates
        raise DataError(f'{inv.path}: cannot reproject from {inv.crs.to_string()} to '
                        f'{crs.to_string()} ({str(exc).splitlines()[0]}); are its coordinates '
                        'in the CRS it declares? (a GeoJSON without "crs" is EPSG:4326)') \
            from None
    extent = inv.extent
    if extent is not None and inv.crs != crs:
        extent = reproject_geoms([shapely.segmentize(extent, extent.length / 400)], inv.crs,
                                 crs)[0]
    return Inventory(inv.path, geoms, crs, extent)


def read_aoi(path: str, crs):
    """The area of interest in ``crs``: the union of a vector file's polygons, or a raster's
    footprint."""
    import shapely
    if is_raster(path):
        import rasterio
        with rasterio.open(path) as src:
            if src.crs is None:
                raise DataError(f'--aoi {path}: the raster has no CRS')
            box, src_crs = shapely.box(*src.bounds), src.crs
        return reproject_geoms([shapely.segmentize(box, box.length / 400)], src_crs, crs)[0]
    inv = to_crs(read_objects(path, '--aoi'), crs)
    if not len(inv.geoms):
        raise DataError(f'--aoi {path}: no polygon')
    return shapely.union_all(inv.geoms)


def clip(inv: Inventory, aoi) -> Inventory:
    """The parts of ``inv``'s landslides inside ``aoi`` (landslides outside dropped)."""
    import shapely
    if aoi is None or not len(inv.geoms):
        return inv
    inside = shapely.intersects(inv.geoms, aoi)
    geoms = _valid(shapely.intersection(inv.geoms[inside], aoi))
    keep = shapely.area(geoms) > 0 if len(geoms) else np.zeros(0, bool)
    return Inventory(inv.path, geoms[keep], inv.crs, inv.extent)


def merge_touching(geoms: np.ndarray) -> np.ndarray:
    """Polygons that touch or overlap (a shared corner is enough) merged into one landslide: the
    vector counterpart of 8-connected mask components (a 4-connected polygonisation, as
    ``rasterio.features.shapes`` and ``tools/infer_scene.py`` write, splits a landslide at
    pixels that meet only at a corner)."""
    import shapely
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    if len(geoms) < 2:
        return geoms
    a, b = shapely.STRtree(geoms).query(geoms, predicate='intersects')
    n, comp = connected_components(coo_matrix((np.ones(len(a)), (a, b)),
                                              shape=(len(geoms),) * 2), directed=False)
    if n == len(geoms):
        return geoms
    order = np.argsort(comp, kind='stable')
    groups = np.split(order, np.flatnonzero(np.diff(comp[order])) + 1)
    return np.array([geoms[g[0]] if len(g) == 1 else shapely.union_all(geoms[g])
                     for g in groups], object)


def prepare(pred_path: str, ref_path: str, aoi: Optional[str] = None, crs: Optional[str] = None,
            min_area: float = 0.0, touching: bool = False) -> Tuple[Inventory, Inventory, object]:
    """Both inventories in one projected CRS, clipped to the area of interest, without
    landslides below ``min_area`` (``touching``: polygons that touch merged first); checks the
    overlap. Returns ``(pred, ref, aoi_polygon)``."""
    import shapely
    pred, ref = read_objects(pred_path, 'PRED'), read_objects(ref_path, 'REF')
    if touching:
        pred = Inventory(pred.path, merge_touching(pred.geoms), pred.crs, pred.extent)
        ref = Inventory(ref.path, merge_touching(ref.geoms), ref.crs, ref.extent)
    out_crs = target_crs(pred, ref, crs)
    pred, ref = to_crs(pred, out_crs), to_crs(ref, out_crs)
    region = read_aoi(aoi, out_crs) if aoi else None
    if region is None:  # a mask's footprint bounds the comparison
        footprints = [i.extent for i in (pred, ref) if i.extent is not None]
        region = shapely.intersection_all(footprints) if footprints else None
    if region is not None and shapely.is_empty(region):
        raise DataError(f'{pred_path} and {ref_path}: the rasters do not overlap')
    pred, ref = clip(pred, region), clip(ref, region)
    if min_area > 0:
        pred = Inventory(pred.path, pred.geoms[shapely.area(pred.geoms) >= min_area], out_crs)
        ref = Inventory(ref.path, ref.geoms[shapely.area(ref.geoms) >= min_area], out_crs)
    _check_overlap(pred, ref, region is not None)
    return pred, ref, region


def _check_overlap(pred: Inventory, ref: Inventory, has_region: bool) -> None:
    import shapely
    where = ' inside the area of interest' if has_region else ''
    if not len(ref.geoms):
        raise DataError(f'REF {ref.path}: no reference landslide{where}; recall is undefined')
    if not len(pred.geoms):
        warnings.warn(f'PRED {pred.path}: no predicted landslide{where}; object recall is 0',
                      EmptyInventoryWarning, stacklevel=3)
        return
    pb = shapely.box(*shapely.total_bounds(pred.geoms))
    rb = shapely.box(*shapely.total_bounds(ref.geoms))
    if not pb.intersects(rb):
        raise DataError(f'PRED {pred.path} and REF {ref.path} do not overlap (bounds '
                        f'{tuple(round(float(v), 1) for v in pb.bounds)} and '
                        f'{tuple(round(float(v), 1) for v in rb.bounds)} '
                        f'in {pred.crs.to_string()}); wrong CRS in one of them?')
    if not has_region:
        for a, b, name in ((ref, pb, 'reference'), (pred, rb, 'predicted')):
            out = int((~shapely.intersects(a.geoms, b)).sum())
            if out:
                warnings.warn(f'{out} {name} landslide(s) of {a.path} lie outside the bounding '
                              'box of the other inventory and count as missed/false; pass '
                              '--aoi to compare over a common area', ExtentWarning,
                              stacklevel=3)
