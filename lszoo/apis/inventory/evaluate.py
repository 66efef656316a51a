"""Whole-scene comparison of a predicted and a reference landslide inventory
(``tools/evaluate_inventory.py``): object tables by size class, area statistics, bootstrap
intervals over spatial blocks, JSON, a GeoPackage of the matched objects and a map figure.

The object protocol is :mod:`lszoo.evaluation.objects` on polygons
(:mod:`lszoo.evaluation.objects_vector`); each landslide is counted once, whatever tiles or
blocks it crosses.
"""
from collections import OrderedDict
from dataclasses import dataclass
from typing import Dict, Optional, Sequence

import numpy as np
from prettytable import PrettyTable

from lszoo.evaluation.area_frequency import area_statistics
from lszoo.evaluation.bootstrap import bootstrap_ci, format_ci, group_ids, object_statistic
from lszoo.evaluation.objects import (Matching, class_labels, object_counts, summarize_objects)
from lszoo.evaluation.objects_vector import match_polygons

from .io import Inventory

RATES = ('object_recall', 'object_precision', 'object_f1')


@dataclass
class InventoryComparison:
    """Everything :func:`compare_inventories` computed."""

    pred: Inventory
    ref: Inventory
    matching: Matching
    edges: tuple
    unit: str
    summary: dict
    areas: dict
    intervals: dict
    settings: dict


def _unit(crs) -> str:
    name = (crs.linear_units or '').lower()
    return 'm2' if name in ('metre', 'meter', 'm', 'metres') else f'{name}2'


def _sub(m: Matching, ps, rs) -> Matching:
    """The part of a matching whose predicted objects are ``ps`` and reference ones ``rs``."""
    return Matching(m.pred_area[ps], m.ref_area[rs], m.pred_match[ps], m.ref_match[rs],
                    m.pred_match_loose[ps], m.ref_match_loose[rs], m.pred_iou[ps],
                    m.ref_split[rs], m.pred_merge[ps])


def block_records(m: Matching, pred, ref, edges, block_size: float) -> np.ndarray:
    """Object records per spatial block (each object in the block of a point on its surface)."""
    import shapely
    pts = shapely.point_on_surface(np.concatenate([pred, ref]))
    ids = group_ids(shapely.get_x(pts), shapely.get_y(pts), block_size)
    pg, rg = ids[:len(pred)], ids[len(pred):]
    return np.stack([object_counts(_sub(m, pg == g, rg == g), edges)
                     for g in range(ids.max() + 1)])


def compare_inventories(pred: Inventory, ref: Inventory, edges: Sequence[float],
                        iou_threshold: float = 0.5, n_boot: int = 1000,
                        block_size: float = 1000.0, seed: int = 0,
                        level: float = 0.95) -> InventoryComparison:
    """Match, count, summarise and (``n_boot`` > 0) bootstrap over spatial blocks."""
    m = match_polygons(pred.geoms, ref.geoms, iou_threshold)
    unit = _unit(pred.crs)
    summary = summarize_objects(object_counts(m, edges)[None], edges, unit)
    areas = OrderedDict(predicted=area_statistics(m.pred_area),
                        reference=area_statistics(m.ref_area))
    intervals = OrderedDict()
    n_blocks = 0
    if n_boot > 0:
        rec = block_records(m, pred.geoms, ref.geoms, edges, block_size)
        n_blocks = len(rec)
        keys = [k + s for s in ('', '_loose') for k in RATES]
        keys += [f'{k}@{c}' for c in class_labels(edges, unit) for k in RATES]
        intervals = bootstrap_ci(n_blocks, object_statistic(rec, edges, keys, unit), n_boot, level,
                                 seed)
    settings = OrderedDict(pred=pred.path, ref=ref.path, crs=pred.crs.to_string(),
                           area_unit=unit, size_class_edges=list(edges),
                           iou_threshold=iou_threshold, bootstrap=n_boot,
                           bootstrap_level=level, block_size=block_size, n_blocks=n_blocks,
                           seed=seed)
    return InventoryComparison(pred, ref, m, tuple(edges), unit, summary, areas, intervals,
                               settings)


def _f(v, pct=True) -> str:
    if not np.isfinite(v):
        return 'nan'
    return f'{100 * v:.1f}' if pct else f'{v:.0f}'


def _ci(res: InventoryComparison, key: str) -> str:
    if key not in res.intervals:
        return _f(res.summary['overall'].get(key, np.nan))
    est, lo, hi = res.intervals[key]
    return format_ci(100 * est, 100 * lo, 100 * hi, 1)


def format_tables(res: InventoryComparison) -> str:
    """The object table, the size-class table and the area statistics, as text."""
    o = res.summary['overall']
    lvl = f' ({100 * res.settings["bootstrap_level"]:g} % interval over '\
          f'{res.settings["n_blocks"]} blocks)' if res.intervals else ''
    t = PrettyTable(['rule', 'n ref', 'n pred', 'recall %' + lvl, 'precision %', 'F1 %'])
    for name, sfx in (('strict: IoU >= %g' % res.settings['iou_threshold'], ''),
                      ('loose: overlap or centroid inside', '_loose')):
        t.add_row([name, int(o['n_ref']), int(o['n_pred'])] + [_ci(res, k + sfx) for k in RATES])
    c = PrettyTable(['size class', 'n ref', 'n pred', 'recall %', 'precision %', 'F1 %',
                     'F1 % (loose)', f'ref area ({res.unit})', f'pred area ({res.unit})'])
    for cls in res.summary['classes']:
        lab = cls['size_class']
        c.add_row([lab, int(cls['n_ref']), int(cls['n_pred'])]
                  + [_ci(res, f'{k}@{lab}') for k in RATES]
                  + [_f(cls['object_f1_loose']), _f(cls['ref_area'], False),
                     _f(cls['pred_area'], False)])
    a = PrettyTable(['inventory', 'n', f'total area ({res.unit})', 'median area',
                     'tail alpha (ML)', 'tail a_min', 'n tail'])
    for name, s in res.areas.items():
        alpha = (f'{s["tail_alpha"]:.2f} ± {s["tail_sigma"]:.2f}'
                 if np.isfinite(s['tail_alpha']) else 'nan (too few)')
        a.add_row([name, s['n'], _f(s['total_area'], False), _f(s['median_area'], False),
                   alpha, _f(s['tail_a_min'], False), s['tail_n_tail']])
    return (f'objects ({res.settings["crs"]}; splits {int(o["splits"])}, merges '
            f'{int(o["merges"])}):\n{t}\nby size class (each object by its own area):\n{c}\n'
            f'area statistics:\n{a}')


def to_json(res: InventoryComparison) -> Dict:
    """The tables as one JSON-ready dict (fractions, not percentages)."""
    def clean(v):
        v = float(v)
        return v if np.isfinite(v) else None
    out = OrderedDict((k, clean(v)) for k, v in res.summary['overall'].items())
    for k in ('n_ref', 'n_pred', 'splits', 'merges'):
        out[k] = int(out[k])
    counts = ('n_ref', 'n_pred')
    out['size_classes'] = [OrderedDict(
        (k, v if k == 'size_class' else int(v) if k in counts else clean(v))
        for k, v in cls.items()) for cls in res.summary['classes']]
    out['area_statistics'] = {k: {n: clean(v) for n, v in s.items()}
                              for k, s in res.areas.items()}
    out['intervals'] = {k: [clean(lo), clean(hi)] for k, (_, lo, hi) in res.intervals.items()}
    out['settings'] = res.settings
    return out


def status(res: InventoryComparison):
    """``(pred_status, ref_status)`` per object: 'hit' / 'false' and 'hit' / 'missed' (strict)."""
    m = res.matching
    return (np.where(m.pred_match >= 0, 'hit', 'false'),
            np.where(m.ref_match >= 0, 'hit', 'missed'))


def write_gpkg(res: InventoryComparison, path: str) -> None:
    """Layers ``reference`` and ``predicted``: each object with its status (strict and loose),
    the id of its matched object in the other layer (strict match, else loose; 0 none), the
    IoU with it, area, size class and split/merge flag."""
    import os
    import pyogrio.raw
    import shapely
    m = res.matching
    ps, rs = status(res)
    labels = np.array(class_labels(res.edges, res.unit), object)
    if os.path.exists(path):
        os.remove(path)
    # the matched object: the strict match, else the loose one
    pred_partner = np.where(m.pred_match >= 0, m.pred_match, m.pred_match_loose)
    ref_partner = np.where(m.ref_match >= 0, m.ref_match, m.ref_match_loose)
    ref_iou = np.array([m.pred_iou[i] if i >= 0 and pred_partner[i] == j else 0.0
                        for j, i in enumerate(ref_partner)])
    layers = (
        ('reference', res.ref.geoms, rs, np.where(m.ref_match_loose >= 0, 'hit', 'missed'),
         ref_partner, ref_iou, m.ref_area, m.ref_split.astype(np.int32), 'split'),
        ('predicted', res.pred.geoms, ps, np.where(m.pred_match_loose >= 0, 'hit', 'false'),
         pred_partner, m.pred_iou, m.pred_area, m.pred_merge.astype(np.int32), 'merge'))
    for k, (name, geoms, st, loose, match, iou, area, flag, flag_name) in enumerate(layers):
        cls = labels[np.searchsorted(res.edges, area, 'right')] if len(area) else \
            np.zeros(0, object)
        fields = OrderedDict(
            id=np.arange(1, len(geoms) + 1, dtype=np.int64), status=st.astype(object),
            status_loose=loose.astype(object), match_id=(match + 1).astype(np.int64),
            iou=iou.astype(np.float64), area=area.astype(np.float64), size_class=cls,
            **{flag_name: flag})
        geoms = shapely.to_wkb(shapely.force_2d(geoms)) if len(geoms) else np.array([], object)
        pyogrio.raw.write(path, geometry=geoms, field_data=list(fields.values()),
                          fields=list(fields), driver='GPKG', geometry_type='Unknown',
                          crs=res.pred.crs.to_wkt(), layer=name, append=k > 0,
                          promote_to_multi=True)


def plot_status_map(res: InventoryComparison, path: str, region=None,
                    title: Optional[str] = None) -> None:
    """PNG map: reference landslides hit (green) or missed (red), false predictions (blue),
    predicted outlines of hits (black), area of interest dashed, map coordinates on the axes."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    ps, rs = status(res)
    fig, ax = plt.subplots(figsize=(7, 7), dpi=130)
    _draw(ax, res.ref.geoms[rs == 'hit'], face='#4daf4a', edge='#4daf4a', lw=0.5)
    _draw(ax, res.pred.geoms[ps == 'hit'], face='none', edge='k', lw=0.5)
    # missed and false on top, each also ringed so one-pixel landslides show at scene size
    for geoms, color in ((res.ref.geoms[rs == 'missed'], '#e41a1c'),
                         (res.pred.geoms[ps == 'false'], '#377eb8')):
        _draw(ax, geoms, face=color, edge=color, lw=1.0)
        if len(geoms):
            import shapely
            pts = shapely.point_on_surface(geoms)
            ax.scatter(shapely.get_x(pts), shapely.get_y(pts), s=40, facecolors='none',
                       edgecolors=color, linewidths=0.8)
    if region is not None:
        _draw(ax, np.array([region], object), face='none', edge='0.4', lw=0.8, ls='--')
    o = res.summary['overall']
    ax.legend(handles=[
        Patch(color='#4daf4a', label=f'reference, hit ({int((rs == "hit").sum())})'),
        Patch(color='#e41a1c', label=f'reference, missed ({int((rs == "missed").sum())}, '
              'ringed)'),
        Patch(color='#377eb8', label=f'predicted, false ({int((ps == "false").sum())}, '
              'ringed)'),
        Patch(facecolor='none', edgecolor='k', label='predicted, hit (outline)')],
        loc='upper right', fontsize=7, framealpha=0.9)
    ax.set_title(title or f'object recall {_f(o["object_recall"])} %, precision '
                 f'{_f(o["object_precision"])} % (IoU >= {res.settings["iou_threshold"]:g})',
                 fontsize=9)
    ax.set_aspect('equal')
    ax.set_xlabel(f'x ({res.settings["crs"]})', fontsize=8)
    ax.set_ylabel('y', fontsize=8)
    ax.tick_params(labelsize=7)
    ax.ticklabel_format(useOffset=False, style='plain')
    fig.tight_layout()
    from lszoo.utils.fileio import atomic_savefig
    atomic_savefig(fig, path)


def _draw(ax, geoms, face, edge, lw=0.0, ls='-') -> None:
    import shapely
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path
    for g in geoms:
        for poly in shapely.get_parts(g):
            rings = [np.asarray(poly.exterior.coords)] + [np.asarray(r.coords)
                                                          for r in poly.interiors]
            path = Path.make_compound_path(*[Path(r[:, :2], closed=True) for r in rings])
            ax.add_patch(PathPatch(path, facecolor=face, edgecolor=edge, lw=lw, ls=ls))
    ax.autoscale_view()
