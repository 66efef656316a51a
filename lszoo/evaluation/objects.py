"""Object-level (per-landslide) evaluation: connected landslides, one-to-one matching, counts.

A landslide inventory is used as counts and areas of individual landslides, which pixel IoU
hides (one scar split into ten, every small landslide missed). Here each landslide is one
object: an 8-connected component of a mask (:func:`label_objects`), or one polygon of a vector
inventory (:mod:`.objects_vector`). Predicted and reference objects are matched one to one by
two rules, reported side by side (docs/metrics.md):

* **strict**: a pair matches when its overlap IoU (intersection / union of the two objects) is
  at least ``iou_threshold`` (0.5);
* **loose**: a pair matches when the two objects share any area, or the centroid of one lies
  inside the other.

Among the candidate pairs of a rule, pairs are taken greedily by decreasing IoU (then
intersection, then index), each object used at most once. A reference object is **split** when
two or more predicted objects each have more than half of their own area inside it; a predicted
object is a **merge** when two or more reference objects each have more than half of their area
inside it.

Counts are kept per evaluation unit (an image, a spatial block) as one additive record
(:func:`object_counts`), so the units of a split can be summed, gathered across processes and
resampled for bootstrap intervals; :func:`summarize_objects` turns summed records into scores.
"""
from collections import OrderedDict
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from lszoo.errors import ConfigError, DataError

#: default size-class edges (object area) in m² for georeferenced data: < 1,000 m² (10 pixels
#: at 10 m), 1,000-10,000, 10,000-100,000, >= 100,000
SIZE_EDGES_M2 = (1e3, 1e4, 1e5)
#: default size-class edges in pixels for data without georeferencing
SIZE_EDGES_PX = (10.0, 100.0, 1000.0)
#: per-class fields of an object record, in order
CLASS_FIELDS = ('n_ref', 'ref_hit', 'ref_hit_loose', 'n_pred', 'pred_hit', 'pred_hit_loose',
                'ref_area', 'pred_area')
#: fields of an object record after the per-class blocks
TAIL_FIELDS = ('splits', 'merges')


def check_edges(edges: Sequence[float]) -> Tuple[float, ...]:
    """Size-class edges as a strictly increasing tuple of positive areas."""
    edges = tuple(float(e) for e in edges)
    if any(e <= 0 for e in edges) or any(b <= a for a, b in zip(edges, edges[1:])):
        raise ConfigError(f'size classes: edges must be positive and increasing, got {edges}')
    return edges


def class_labels(edges: Sequence[float], unit: str = '') -> List[str]:
    """Labels of the ``len(edges) + 1`` size classes, e.g. ``['<1000', '1000-10000', ...]``."""
    f = [f'{e:g}' for e in edges]
    if not f:
        return ['all']
    return [f'<{f[0]}{unit}'] + [f'{a}-{b}{unit}' for a, b in zip(f, f[1:])] + \
        [f'>={f[-1]}{unit}']


def record_length(n_edges: int) -> int:
    """Length of an object record for ``n_edges`` size-class edges."""
    return (n_edges + 1) * len(CLASS_FIELDS) + len(TAIL_FIELDS)


def label_objects(mask: np.ndarray, connectivity: int = 8) -> Tuple[np.ndarray, int]:
    """``(labels, n)``: connected components of ``mask != 0`` (labels 1..n, 0 background)."""
    from scipy import ndimage
    if connectivity not in (4, 8):
        raise ConfigError(f'connectivity must be 4 or 8, got {connectivity}')
    structure = np.ones((3, 3), bool) if connectivity == 8 else None
    labels, n = ndimage.label(np.asarray(mask) != 0, structure=structure)
    return labels.astype(np.int32, copy=False), int(n)


@dataclass
class Matching:
    """Matches between ``n_pred`` predicted and ``n_ref`` reference objects (``-1``: none)."""

    pred_area: np.ndarray
    ref_area: np.ndarray
    pred_match: np.ndarray  # strict: index of the matched reference object per predicted one
    ref_match: np.ndarray
    pred_match_loose: np.ndarray
    ref_match_loose: np.ndarray
    pred_iou: np.ndarray  # IoU of the strict match (loose if none, 0 if unmatched)
    ref_split: np.ndarray  # bool per reference object
    pred_merge: np.ndarray  # bool per predicted object


def _greedy(p, r, iou, inter, n_pred, n_ref):
    """One-to-one matches from candidate pairs, by decreasing IoU, intersection, index."""
    pm, rm = np.full(n_pred, -1, np.int64), np.full(n_ref, -1, np.int64)
    for k in np.lexsort((r, p, -inter, -iou)):
        i, j = p[k], r[k]
        if pm[i] < 0 and rm[j] < 0:
            pm[i], rm[j] = j, i
    return pm, rm


def match_objects(p, r, inter, pred_area, ref_area, centroid_pairs=None,
                  iou_threshold: float = 0.5) -> Matching:
    """Match objects from their overlapping pairs (the core of both the mask and vector paths).

    Args:
        p, r: indices (0-based) of the predicted and reference object of each overlapping pair.
        inter: intersection area of each pair (> 0).
        pred_area, ref_area: area of every object.
        centroid_pairs: optional ``(p, r)`` arrays of pairs where the centroid of one object
            lies inside the other (loose rule), overlapping or not.
        iou_threshold: the strict rule's IoU (default 0.5).
    """
    if not 0 < iou_threshold <= 1:
        raise ConfigError(f'iou_threshold must be in (0, 1], got {iou_threshold}')
    pa, ra = np.asarray(pred_area, np.float64), np.asarray(ref_area, np.float64)
    p, r = np.asarray(p, np.int64), np.asarray(r, np.int64)
    inter = np.asarray(inter, np.float64)
    iou = inter / np.maximum(pa[p] + ra[r] - inter, np.finfo(float).tiny)
    strict = iou >= iou_threshold
    pm, rm = _greedy(p[strict], r[strict], iou[strict], inter[strict], len(pa), len(ra))
    lp, lr, liou, linter = p, r, iou, inter
    if centroid_pairs is not None and len(centroid_pairs[0]):
        cp, cr = (np.asarray(a, np.int64) for a in centroid_pairs)
        lp, lr = np.concatenate([p, cp]), np.concatenate([r, cr])
        liou, linter = np.concatenate([iou, np.zeros(len(cp))]), np.concatenate(
            [inter, np.zeros(len(cp))])
    lpm, lrm = _greedy(lp, lr, liou, linter, len(pa), len(ra))
    pair_iou = dict(zip(zip(p.tolist(), r.tolist()), iou.tolist()))
    partner = np.where(pm >= 0, pm, lpm)
    pred_iou = np.array([pair_iou.get((i, int(j)), 0.0) for i, j in enumerate(partner)])
    # more than half of a predicted object inside a reference one (and the reverse)
    inside_ref = inter > 0.5 * pa[p]
    inside_pred = inter > 0.5 * ra[r]
    ref_split = np.bincount(r[inside_ref], minlength=len(ra)) >= 2
    pred_merge = np.bincount(p[inside_pred], minlength=len(pa)) >= 2
    return Matching(pa, ra, pm, rm, lpm, lrm, pred_iou, ref_split, pred_merge)


def _centroid_labels(labels: np.ndarray, n: int) -> np.ndarray:
    """Flat index of the pixel nearest each component's centroid (``n`` entries)."""
    rows, cols = np.nonzero(labels)
    lab = labels[rows, cols]
    cnt = np.maximum(np.bincount(lab, minlength=n + 1)[1:], 1)
    cy = np.rint(np.bincount(lab, rows, minlength=n + 1)[1:] / cnt).astype(np.int64)
    cx = np.rint(np.bincount(lab, cols, minlength=n + 1)[1:] / cnt).astype(np.int64)
    return cy * labels.shape[1] + cx


def match_masks(pred, ref, valid: Optional[np.ndarray] = None, connectivity: int = 8,
                iou_threshold: float = 0.5):
    """``(matching, pred_labels, ref_labels)`` of two binary masks on one grid.

    Pixels where ``valid`` is False (ignored label, nodata) are removed from both masks before
    the objects are labelled. Areas are in pixels.
    """
    pred, ref = np.asarray(pred) != 0, np.asarray(ref) != 0
    if pred.shape != ref.shape:
        raise DataError(f'object matching: prediction {pred.shape} and reference {ref.shape} '
                        'differ in size')
    if valid is not None:
        pred, ref = pred & valid, ref & valid
    pl, n_p = label_objects(pred, connectivity)
    rl, n_r = label_objects(ref, connectivity)
    pa = np.bincount(pl.ravel(), minlength=n_p + 1)[1:]
    ra = np.bincount(rl.ravel(), minlength=n_r + 1)[1:]
    both = (pl > 0) & (rl > 0)
    key = pl[both].astype(np.int64) * (n_r + 1) + rl[both]
    pairs, inter = np.unique(key, return_counts=True)
    p, r = pairs // (n_r + 1) - 1, pairs % (n_r + 1) - 1
    cen = []
    for labels, other, n in ((pl, rl, n_p), (rl, pl, n_r)):
        hit = other.ravel()[_centroid_labels(labels, n)] if n else np.zeros(0, np.int32)
        idx = np.flatnonzero(hit)
        cen.append((idx, hit[idx] - 1))
    cp = np.concatenate([cen[0][0], cen[1][1]])
    cr = np.concatenate([cen[0][1], cen[1][0]])
    m = match_objects(p, r, inter, pa, ra, (cp, cr), iou_threshold)
    return m, pl, rl


def object_counts(m: Matching, edges: Sequence[float], scale: float = 1.0) -> np.ndarray:
    """The additive record of one unit: per size class :data:`CLASS_FIELDS`, then
    :data:`TAIL_FIELDS`. ``scale`` turns the matching's areas into the units of ``edges``
    (e.g. m² per pixel). Each object is classed by its own area."""
    edges = check_edges(edges)
    pa, ra = m.pred_area * scale, m.ref_area * scale
    pc, rc = np.searchsorted(edges, pa, 'right'), np.searchsorted(edges, ra, 'right')
    c = len(edges) + 1
    rec = np.zeros((c, len(CLASS_FIELDS)))
    for col, cls, val in ((0, rc, 1.0), (1, rc, m.ref_match >= 0),
                          (2, rc, m.ref_match_loose >= 0), (3, pc, 1.0),
                          (4, pc, m.pred_match >= 0), (5, pc, m.pred_match_loose >= 0),
                          (6, rc, ra), (7, pc, pa)):
        w = np.broadcast_to(np.asarray(val, np.float64), cls.shape)
        rec[:, col] = np.bincount(cls, w, minlength=c)[:c]
    return np.concatenate([rec.ravel(), [m.ref_split.sum(), m.pred_merge.sum()]])


def _div(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def _scores(block: np.ndarray) -> Dict[str, np.ndarray]:
    """Scores of summed per-class fields ``(..., len(CLASS_FIELDS))`` (vectorised)."""
    f = {name: block[..., k] for k, name in enumerate(CLASS_FIELDS)}
    out = OrderedDict()
    for sfx, rh, ph in (('', f['ref_hit'], f['pred_hit']),
                        ('_loose', f['ref_hit_loose'], f['pred_hit_loose'])):
        out['object_recall' + sfx] = _div(rh, f['n_ref'])
        out['object_precision' + sfx] = _div(ph, f['n_pred'])
        # = 2 TP / (n_ref + n_pred) overall, where the two hit counts are equal
        out['object_f1' + sfx] = _div(rh + ph, f['n_ref'] + f['n_pred'])
    for name in ('n_ref', 'n_pred', 'ref_area', 'pred_area'):
        out[name] = f[name]
    return out


def summarize_objects(records, edges: Sequence[float], unit: str = '') -> Dict:
    """Scores of ``(N, K)`` object records (or one summed ``(..., K)``, with ``N`` summed).

    Returns ``{'overall': {...}, 'classes': [{'size_class': label, ...}, ...]}``; recall,
    precision and F1 are fractions (``nan`` when undefined), counts and areas sums. A size
    class's F1 is (matched reference + matched predicted objects of the class) / (reference +
    predicted objects of the class), the overall object F1 2TP / (n_ref + n_pred) when no match
    crosses classes.
    """
    edges = check_edges(edges)
    rec = np.asarray(records, np.float64)
    if rec.shape[-1] != record_length(len(edges)):
        raise DataError(f'object records have {rec.shape[-1]} fields, expected '
                        f'{record_length(len(edges))} for {len(edges)} size-class edges')
    total = rec.reshape(-1, rec.shape[-1]).sum(0)
    return summarize_sums(total, edges, unit)


def summarize_sums(total: np.ndarray, edges: Sequence[float], unit: str = '') -> Dict:
    """:func:`summarize_objects` of already summed records ``(..., K)`` (vectorised over
    leading axes, used by the bootstrap)."""
    c = len(edges) + 1
    per = total[..., :c * len(CLASS_FIELDS)].reshape(total.shape[:-1] + (c, len(CLASS_FIELDS)))
    overall = _scores(per.sum(-2))
    overall['splits'] = total[..., -2]
    overall['merges'] = total[..., -1]
    classes = []
    for k, label in enumerate(class_labels(edges, unit)):
        classes.append(OrderedDict([('size_class', label)] + list(
            _scores(per[..., k, :]).items())))
    return dict(overall=overall, classes=classes)


def flat_scores(summary: Dict) -> Dict[str, float]:
    """One flat ``{key: value}`` of a :func:`summarize_objects` result: the overall keys, then
    ``<key>@<size class>`` for each class (floats, or arrays for a vectorised summary)."""
    def val(v):
        return v if np.ndim(v) else float(v)
    out = OrderedDict((k, val(v)) for k, v in summary['overall'].items())
    for cls in summary['classes']:
        for k, v in cls.items():
            if k != 'size_class':
                out[f'{k}@{cls["size_class"]}'] = val(v)
    return out


def object_scores(pred, ref, valid: Optional[np.ndarray] = None, pixel_area: float = 1.0,
                  edges: Optional[Sequence[float]] = None, iou_threshold: float = 0.5,
                  unit: str = '') -> Dict:
    """One call for two masks on one grid: :func:`summarize_objects` of their matching.
    ``pixel_area`` (map units² per pixel) scales the areas; ``edges`` default to
    :data:`SIZE_EDGES_M2` when ``pixel_area != 1``, else :data:`SIZE_EDGES_PX`."""
    if edges is None:
        edges = SIZE_EDGES_PX if pixel_area == 1.0 else SIZE_EDGES_M2
    m, _, _ = match_masks(pred, ref, valid, 8, iou_threshold)
    return summarize_objects(object_counts(m, edges, pixel_area)[None], edges, unit)
