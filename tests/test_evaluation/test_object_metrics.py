"""Object-level (per-landslide) metrics: labelling oracle, matching rules, size classes."""
import numpy as np
import pytest
import shapely
from scipy import ndimage

from lszoo.errors import ConfigError, DataError
from lszoo.evaluation.objects import (SIZE_EDGES_PX, label_objects, match_masks,
                                      object_counts, object_scores, summarize_objects)
from lszoo.evaluation.objects_vector import match_polygons


def _box(x0, y0, x1, y1):
    return shapely.box(x0, y0, x1, y1)


@pytest.mark.parametrize('seed', range(5))
def test_components_equal_scipy_and_skimage(seed):
    mask = np.random.default_rng(seed).random((64, 80)) < 0.35
    labels, n = label_objects(mask, 8)
    ref, n_ref = ndimage.label(mask, structure=np.ones((3, 3)))
    assert n == n_ref and np.array_equal(labels, ref)
    labels4, n4 = label_objects(mask, 4)
    assert n4 == ndimage.label(mask)[1] and n4 > n  # diagonal neighbours join only in 8
    # an independent implementation: OpenCV, same partition up to renumbering
    import cv2
    n_cv, cv = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    assert n_cv - 1 == n
    assert np.unique(np.stack([labels.ravel(), cv.ravel()]), axis=1).shape[1] == n + 1


def test_components_equal_skimage():
    measure = pytest.importorskip('skimage.measure')
    mask = np.random.default_rng(7).random((64, 80)) < 0.35
    labels, n = label_objects(mask, 8)
    sk = measure.label(mask, connectivity=2)
    assert sk.max() == n
    assert np.unique(np.stack([labels.ravel(), sk.ravel()]), axis=1).shape[1] == n + 1


def _scores(pred, ref, edges=SIZE_EDGES_PX):
    m, _, _ = match_masks(pred, ref)
    return m, summarize_objects(object_counts(m, edges)[None], edges)


def test_split_one_reference_into_two_predictions():
    ref = np.zeros((20, 20), np.uint8)
    ref[2:10, 2:10] = 1                           # 64 px
    pred = np.zeros_like(ref)
    pred[2:10, 2:6] = 1                           # 32 px, IoU 0.5 with the reference
    pred[2:10, 7:10] = 1                          # 24 px
    m, s = _scores(pred, ref)
    o = s['overall']
    assert m.ref_split.tolist() == [True] and o['splits'] == 1 and o['merges'] == 0
    assert o['n_ref'] == 1 and o['n_pred'] == 2
    assert o['object_recall'] == 1 and o['object_precision'] == 0.5
    assert o['object_f1'] == pytest.approx(2 / 3)            # 2 TP / (1 + 2)
    assert o['object_precision_loose'] == 0.5                  # still one to one
    assert o['ref_area'] == 64 and o['pred_area'] == 56


def test_merge_and_strict_versus_loose():
    ref = np.zeros((20, 30), np.uint8)
    ref[2:10, 2:10] = 1
    ref[2:10, 12:20] = 1
    pred = np.zeros_like(ref)
    pred[2:10, 2:20] = 1                          # covers both: IoU 64/144 < 0.5
    m, s = _scores(pred, ref)
    o = s['overall']
    assert m.pred_merge.tolist() == [True] and o['merges'] == 1
    assert o['object_recall'] == 0 and o['object_precision'] == 0        # strict: no pair
    assert o['object_recall_loose'] == 0.5 and o['object_precision_loose'] == 1


def test_touching_objects_are_one_in_a_mask_two_in_an_inventory():
    ref = np.zeros((10, 10), np.uint8)
    ref[1:4, 1:4] = 1
    ref[4:7, 4:7] = 1                             # diagonal neighbour of the first square
    assert label_objects(ref, 8)[1] == 1 and label_objects(ref, 4)[1] == 2
    # as polygons they stay two landslides; one prediction covering both merges them
    refs = [_box(0, 0, 10, 10), _box(10, 0, 20, 10)]          # sharing an edge
    m = match_polygons([_box(0, 0, 20, 11)], refs)            # IoU 100 / 220 each
    assert m.pred_merge.tolist() == [True]
    assert m.ref_match.tolist() == [-1, -1]
    assert sorted(m.ref_match_loose.tolist()) == [-1, 0]      # one to one
    m = match_polygons([_box(0, 0, 20, 10)], refs)            # IoU exactly 0.5: strict match
    assert sorted(m.ref_match.tolist()) == [-1, 0]


def test_iou_rule_and_centroid_rule_on_polygons():
    refs = [_box(0, 0, 10, 10), _box(30, 0, 40, 10)]
    # a C-shaped prediction around the second reference: no overlap, centroid inside it
    c_shape = shapely.difference(_box(28, -2, 42, 12), _box(29, -1, 42, 11))
    c_shape = shapely.union(c_shape, _box(28, -2, 42, -1))
    preds = [_box(1, 0, 10, 10), c_shape, _box(100, 100, 101, 101)]
    m = match_polygons(preds, refs)
    assert m.pred_match.tolist() == [0, -1, -1]                 # IoU 0.9 only
    assert m.pred_match_loose.tolist() == [0, 1, -1]            # C's centroid inside ref 1
    s = summarize_objects(object_counts(m, (30.0,))[None], (30.0,))
    assert s['overall']['object_recall'] == 0.5
    assert s['overall']['object_precision'] == pytest.approx(1 / 3)
    # per size class: the 1x1 false landslide is in '<30', the others (C: 40) in '>=30'
    small, big = s['classes']
    assert (small['n_pred'], small['object_precision']) == (1, 0)
    assert (big['n_ref'], big['n_pred'], big['object_recall']) == (2, 2, 0.5)
    assert big['object_f1'] == pytest.approx((1 + 1) / (2 + 2))


def test_centroid_inside_counts_for_the_loose_rule():
    ref = [_box(0, 0, 10, 10)]
    ring = shapely.difference(_box(-5, -5, 15, 15), _box(-1, -1, 11, 11))  # around, disjoint
    m = match_polygons([ring], ref)
    assert m.pred_match.tolist() == [-1] and m.pred_match_loose.tolist() == [0]


def test_mask_and_polygon_paths_agree():
    rng = np.random.default_rng(3)
    ref = ndimage.binary_opening(rng.random((60, 60)) < 0.5, iterations=2)
    pred = ndimage.binary_dilation(ref) & (rng.random(ref.shape) < 0.97)
    m, pl, rl = match_masks(pred, ref)
    import rasterio.features

    def polys(labels):
        out = {}
        for g, v in rasterio.features.shapes(labels, mask=labels > 0, connectivity=8):
            out.setdefault(int(v), []).append(shapely.geometry.shape(g))
        return [shapely.union_all(out[k]) for k in sorted(out)]
    mv = match_polygons(polys(pl), polys(rl))
    assert np.array_equal(m.pred_area, mv.pred_area) and np.array_equal(m.ref_area, mv.ref_area)
    assert np.array_equal(m.pred_match, mv.pred_match)
    assert np.array_equal(m.ref_split, mv.ref_split)


def test_object_on_tile_borders_counts_once_in_whole_scene_evaluation(tmp_path):
    """A landslide across block edges: per-tile evaluation sees 4 pieces, the whole scene
    (masks or the inventory the scene writer streams block by block) sees one."""
    from lszoo.apis.scene.polygons import PolygonCollector
    from lszoo.datasets.inventory_vector import read_inventory
    ref = np.zeros((64, 64), np.uint8)
    ref[20:44, 24:40] = 1                         # crosses row 32 and column 32
    pred = ref.copy()
    pred[20, 24] = 0
    tiles = [match_masks(pred[i:i + 32, j:j + 32], ref[i:i + 32, j:j + 32])[0]
             for i in (0, 32) for j in (0, 32)]
    assert sum(len(t.ref_area) for t in tiles) == 4             # counted once per tile
    m, _, _ = match_masks(pred, ref)
    assert len(m.ref_area) == 1 and m.ref_match.tolist() == [0]
    whole = object_scores(pred, ref, pixel_area=100.0, unit='m2')['overall']
    assert (whole['n_ref'], whole['n_pred'], whole['object_f1']) == (1, 1, 1.0)
    assert whole['ref_area'] == 24 * 16 * 100.0
    path = tmp_path / 'pred.gpkg'
    from rasterio.crs import CRS
    col = PolygonCollector(str(path), 64, 64, crs_wkt=CRS.from_epsg(32645).to_wkt())
    prob = pred.astype(np.float32)
    for i in (0, 32):
        for j in (0, 32):
            col.add_block(pred[i:i + 32, j:j + 32], prob[i:i + 32, j:j + 32], i, j)
    assert col.close() == 1
    geoms, _ = read_inventory(path)
    mv = match_polygons(geoms, [_box(24, 20, 40, 44)])
    assert mv.ref_match.tolist() == [0] and mv.pred_area.tolist() == [16 * 24 - 1]


def test_empty_and_bad_inputs():
    m, s = _scores(np.zeros((5, 5)), np.zeros((5, 5)))
    assert np.isnan(s['overall']['object_recall']) and s['overall']['n_ref'] == 0
    m = match_polygons([], [_box(0, 0, 1, 1)])
    s = summarize_objects(object_counts(m, SIZE_EDGES_PX)[None], SIZE_EDGES_PX)
    assert s['overall']['object_recall'] == 0 and np.isnan(s['overall']['object_precision'])
    with pytest.raises(ConfigError):
        object_counts(m, (10, 5))
    with pytest.raises(ConfigError):
        label_objects(np.zeros((3, 3)), 6)


def _sample(gt, pred, **meta):
    import torch
    return dict(img_path='x.tif', gt_sem_seg=dict(data=torch.tensor(gt)[None]),
                pred_sem_seg=dict(data=torch.tensor(pred)[None]), **meta)


def test_landslide_metric_object_protocol_and_bootstrap_are_opt_in():
    from lszoo.evaluation.metrics import LandslideMetric
    gt = np.zeros((16, 16), np.uint8)
    gt[1:5, 1:5] = gt[8:14, 8:14] = 1
    gt[0, 15] = 255
    pred = np.zeros_like(gt)
    pred[1:5, 1:5] = pred[0, 15] = pred[10, 1] = 1    # one hit, one false, one on ignored
    plain = LandslideMetric()
    plain.process(None, [_sample(gt, pred)])
    base = plain.compute_metrics(plain.results)
    metric = LandslideMetric(objects=dict(size_classes=(10, 30)), bootstrap=dict(n_boot=50))
    metric.process(None, [_sample(gt, pred), _sample(gt, gt)])
    out = metric.compute_metrics(metric.results)
    assert set(base) < set(out)
    # image 1: refs 16 px (hit) and 36 px (missed), preds 16 px (hit) and 1 px (false)
    # image 2: both refs hit
    assert out['n_ref'] == 4 and out['n_pred'] == 4
    assert out['object_recall'] == pytest.approx(75.0)
    assert out['object_precision'] == pytest.approx(75.0)
    assert out['object_recall@>=30px'] == pytest.approx(50.0)
    assert out['object_precision@<10px'] == 0 and out['n_pred@10-30px'] == 2
    assert out['IoU_ci_low'] <= out['IoU'] <= out['IoU_ci_high']
    assert out['object_f1_ci_low'] <= out['object_f1'] <= out['object_f1_ci_high']


def test_landslide_metric_objects_in_m2_for_georeferenced_samples():
    from lszoo.evaluation.metrics import LandslideMetric
    gt = np.zeros((8, 8), np.uint8)
    gt[0:4, 0:4] = 1                              # 16 px of 10 m: 1600 m²
    meta = dict(crs='EPSG:32645', transform=(10.0, 0.0, 500000.0, 0.0, -10.0, 3100000.0))
    metric = LandslideMetric(objects=True)
    metric.process(None, [_sample(gt, gt, **meta)])
    out = metric.compute_metrics(metric.results)
    assert out['ref_area'] == 1600 and out['n_ref@1000-10000m2'] == 1
    mixed = LandslideMetric(objects=True)
    mixed.process(None, [_sample(gt, gt, **meta), _sample(gt, gt)])
    with pytest.raises(DataError, match='georeferenced'):
        mixed.compute_metrics(mixed.results)
    with pytest.raises(ConfigError, match='unknown keys'):
        LandslideMetric(objects=dict(size=(1, 2)))
