"""Calibration of a probability GeoTIFF against a reference inventory
(``tools/evaluate_inventory.py --prob``): reliability counts, ECE, Brier score, diagram.

The probability raster is read window by window (its internal blocks), the reference polygons
are rasterised onto each window (pixel centres inside a polygon are landslide), and the additive
reliability counts and squared errors are summed, so memory does not grow with the scene.
Pixels that are nodata or outside the area of interest are left out.
"""
from collections import OrderedDict
from typing import Optional

import numpy as np

from lszoo.datasets.inventory_vector import reproject_geoms
from lszoo.errors import DataError
from lszoo.evaluation.probability_calibration import ece_from_counts, reliability_counts


def probability_calibration(prob_path: str, ref_geoms, ref_crs, region=None,
                            n_bins: int = 15) -> OrderedDict:
    """``{'ece', 'brier', 'n_pixels', 'counts'}`` of ``prob_path`` against ``ref_geoms``."""
    import rasterio
    from rasterio.features import rasterize
    with rasterio.open(prob_path) as src:
        if src.crs is None:
            raise DataError(f'--prob {prob_path}: the raster has no CRS')
        geoms = reproject_geoms(ref_geoms, ref_crs, src.crs) if len(ref_geoms) else []
        inside = None
        if region is not None:
            inside = reproject_geoms([region], ref_crs, src.crs)[0]
        counts, sq, n = np.zeros((3, n_bins)), 0.0, 0
        for _, win in src.block_windows(1):
            p = src.read(1, window=win, masked=True).astype(np.float64)
            t = src.window_transform(win)
            shape = p.shape
            label = rasterize(geoms, out_shape=shape, transform=t, fill=0, default_value=1,
                              dtype='uint8') if len(geoms) else np.zeros(shape, np.uint8)
            keep = ~np.ma.getmaskarray(p) & np.isfinite(p.filled(np.nan))
            if inside is not None:
                keep &= rasterize([inside], out_shape=shape, transform=t, fill=0,
                                  default_value=1, dtype='uint8').astype(bool)
            pv, yv = p.filled(0)[keep], label[keep]
            if pv.size and (pv.min() < 0 or pv.max() > 1):
                raise DataError(f'--prob {prob_path}: values outside [0, 1]; not a probability '
                                'map (tools/infer_scene.py --prob writes one)')
            counts += reliability_counts(pv, yv, n_bins, ignore_index=None)
            sq += float(np.sum((pv - yv) ** 2))
            n += pv.size
    if n == 0:
        raise DataError(f'--prob {prob_path}: no valid pixel inside the area of interest')
    return OrderedDict(ece=ece_from_counts(counts), brier=sq / n, n_pixels=int(n),
                       n_bins=n_bins, counts=counts)


def calibration_json(cal: Optional[dict]) -> Optional[dict]:
    """The JSON part of :func:`probability_calibration` (counts as lists)."""
    if cal is None:
        return None
    out = OrderedDict((k, v) for k, v in cal.items() if k != 'counts')
    out['bins'] = dict(zip(('pixels', 'sum_prob', 'landslide_pixels'),
                           np.asarray(cal['counts']).tolist()))
    return out
