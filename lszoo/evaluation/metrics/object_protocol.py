"""The opt-in parts of :class:`~lszoo.evaluation.metrics.LandslideMetric`: the per-landslide
(object) protocol and bootstrap confidence intervals, computed from the same single pass.

Per image the metric then keeps, besides its four pixel counts, one additive object record
(:func:`~lszoo.evaluation.objects.object_counts`: objects are the 8-connected landslides of the
image, so a landslide cut by the image border counts once per image it appears in; whole-scene
inventories are evaluated with ``tools/evaluate_inventory.py``). Areas are in m² (map units²)
when the sample carries a projected ``crs`` and its ``transform``, in pixels otherwise.
"""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from prettytable import PrettyTable

from lszoo.errors import ConfigError, DataError

from ..bootstrap import bootstrap_ci, format_ci, object_statistic, pixel_statistic
from ..objects import (SIZE_EDGES_M2, SIZE_EDGES_PX, check_edges, flat_scores, match_masks,
                       object_counts, summarize_objects)

#: object keys reported as percentages (the metric's other keys are percentages too)
RATE_KEYS = ('object_recall', 'object_precision', 'object_f1', 'object_recall_loose',
             'object_precision_loose', 'object_f1_loose')


def object_options(objects) -> Optional[dict]:
    """Normalise the metric's ``objects`` argument (``None``/``False``, ``True`` or a dict of
    ``size_classes``, ``iou_threshold``, ``connectivity``)."""
    if not objects:
        return None
    opts = dict(size_classes=None, iou_threshold=0.5, connectivity=8)
    if isinstance(objects, dict):
        unknown = set(objects) - set(opts)
        if unknown:
            raise ConfigError(f'LandslideMetric: objects has unknown keys {sorted(unknown)}; '
                              f'known: {sorted(opts)}')
        opts.update(objects)
    if opts['size_classes'] is not None:
        opts['size_classes'] = check_edges(opts['size_classes'])
    return opts


def bootstrap_options(bootstrap) -> Optional[dict]:
    """Normalise ``bootstrap`` (``None``, ``True``, an int ``n_boot`` or a dict of ``n_boot``,
    ``level``, ``seed``)."""
    if not bootstrap:
        return None
    opts = dict(n_boot=1000, level=0.95, seed=0)
    if isinstance(bootstrap, dict):
        unknown = set(bootstrap) - set(opts)
        if unknown:
            raise ConfigError(f'LandslideMetric: bootstrap has unknown keys {sorted(unknown)}')
        opts.update(bootstrap)
    elif not isinstance(bootstrap, bool):
        opts['n_boot'] = int(bootstrap)
    return opts


def pixel_area(sample) -> Optional[float]:
    """Area of one pixel in map units² when the sample has a projected CRS and a transform."""
    get = sample.get if isinstance(sample, dict) else (lambda k: getattr(sample, k, None))
    crs, t = get('crs'), get('transform')
    if not crs or t is None:
        return None
    from rasterio.crs import CRS
    try:
        if not CRS.from_user_input(crs).is_projected:
            return None
    except Exception:
        return None
    a, b, _, d, e = tuple(t)[:5]
    return abs(a * e - b * d)


def object_record(pred, gt, ignore_index: int, sample, opts: dict) -> Tuple[np.ndarray, bool]:
    """``(record, georeferenced)`` of one image (``pred`` bool, ``gt`` labels; numpy)."""
    area = pixel_area(sample)
    edges = opts['size_classes'] or (SIZE_EDGES_M2 if area else SIZE_EDGES_PX)
    m, _, _ = match_masks(pred, gt == 1, gt != ignore_index, opts['connectivity'],
                          opts['iou_threshold'])
    return object_counts(m, edges, area or 1.0), area is not None


def _units(flags: Sequence[bool], opts: dict) -> Tuple[Tuple[float, ...], str]:
    if any(flags) and not all(flags):
        raise DataError('LandslideMetric: objects: some images are georeferenced and some are '
                        'not; size classes in m² and in pixels cannot be summed')
    geo = bool(flags) and all(flags)
    edges = opts['size_classes'] or (SIZE_EDGES_M2 if geo else SIZE_EDGES_PX)
    return edges, ('m2' if geo else 'px')


def object_metrics(records: np.ndarray, flags: List[bool], opts: dict,
                   log) -> Dict[str, float]:
    """Object keys (rates as percentages) of the per-image records; logs one table."""
    edges, unit = _units(flags, opts)
    summary = summarize_objects(records.reshape(-1, records.shape[-1]), edges, unit)
    table = PrettyTable(['Size class', 'n ref', 'n pred', 'Recall', 'Precision', 'F1',
                         'Recall (loose)', 'Precision (loose)', 'F1 (loose)'])
    rows = [dict(summary['overall'], size_class='all')] + summary['classes']
    for row in rows:
        table.add_row([row['size_class'], int(row['n_ref']), int(row['n_pred'])]
                      + [_pct(row[k]) for k in RATE_KEYS])
    o = summary['overall']
    log(f'objects (8-connected landslides per image; strict: IoU >= '
        f'{opts["iou_threshold"]:g}, loose: any overlap or centroid inside; splits '
        f'{int(o["splits"])}, merges {int(o["merges"])}):\n' + table.get_string())
    return OrderedDict((k, 100 * v if k.split('@')[0] in RATE_KEYS else v)
                       for k, v in flat_scores(summary).items())


def _pct(v) -> str:
    return f'{100 * v:.2f}' if np.isfinite(v) else 'nan'


def bootstrap_metrics(pixels: np.ndarray, objects: Optional[np.ndarray], flags: List[bool],
                      obj_opts: Optional[dict], opts: dict, log) -> Dict[str, float]:
    """``<key>_ci_low`` / ``<key>_ci_high`` of the pixel keys and the overall object rates,
    resampling images; logs them as ``value [low, high]``."""
    n = len(pixels)
    stat = pixel_statistic(pixels)
    ci = bootstrap_ci(n, stat, opts['n_boot'], opts['level'], opts['seed'])
    if objects is not None:
        edges, _ = _units(flags, obj_opts)
        ost = object_statistic(objects, edges, RATE_KEYS)
        for k, v in bootstrap_ci(n, ost, opts['n_boot'], opts['level'], opts['seed']).items():
            ci[k] = tuple(100 * x for x in v)
    out = OrderedDict()
    for k, (est, low, high) in ci.items():
        out[f'{k}_ci_low'], out[f'{k}_ci_high'] = low, high
    log(f'bootstrap {100 * opts["level"]:g} % intervals ({opts["n_boot"]} resamples of the '
        f'{n} images, seed {opts["seed"]}): '
        + ', '.join(f'{k} {format_ci(*v)}' for k, v in ci.items()))
    return out
