"""Object matching of two vector inventories (polygons in one projected CRS).

Each polygon (a MultiPolygon counts as one landslide) is one object; the rules are those of
:mod:`.objects` (strict IoU >= 0.5, loose any overlap / centroid inside, one to one), computed
with shapely 2 on an STR tree, so only the pairs whose envelopes meet are intersected.
"""
from typing import Tuple

import numpy as np

from .objects import Matching, match_objects


def _centroid_pairs(a, b, tree_b) -> Tuple[np.ndarray, np.ndarray]:
    """``(i, j)``: the centroid of ``a[i]`` lies inside ``b[j]``."""
    import shapely
    if not len(a) or not len(b):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    i, j = tree_b.query(shapely.centroid(a), predicate='within')
    return i.astype(np.int64), j.astype(np.int64)


def match_polygons(pred, ref, iou_threshold: float = 0.5) -> Matching:
    """Match predicted and reference polygons (arrays of shapely geometries, one CRS)."""
    import shapely
    pred = np.asarray(pred, dtype=object)
    ref = np.asarray(ref, dtype=object)
    pa, ra = shapely.area(pred).astype(np.float64), shapely.area(ref).astype(np.float64)
    if len(pred) and len(ref):
        tree_r, tree_p = shapely.STRtree(ref), shapely.STRtree(pred)
        p, r = tree_r.query(pred, predicate='intersects')
        inter = shapely.area(shapely.intersection(pred[p], ref[r]))
        keep = inter > 0  # pairs that only touch have no common area
        p, r, inter = p[keep], r[keep], inter[keep]
        cp1, cr1 = _centroid_pairs(pred, ref, tree_r)
        cr2, cp2 = _centroid_pairs(ref, pred, tree_p)
        cen = (np.concatenate([cp1, cp2]), np.concatenate([cr1, cr2]))
    else:
        p = r = np.zeros(0, np.int64)
        inter = np.zeros(0)
        cen = None
    return match_objects(p, r, inter, pa, ra, cen, iou_threshold)
