"""The overlay figure (lszoo.engine.hooks.overlay_hook): four titled panels, error colours fixed
and explained by a legend, the sample's IoU in the title."""
import numpy as np

from lszoo.engine.hooks.overlay_hook import ERROR_COLOURS, error_map, overlay_panel, sample_iou


def _has_colour(img_bgr, rgb, min_pixels=20):
    return int((img_bgr == np.array(rgb[::-1], np.uint8)).all(-1).sum()) >= min_pixels


def test_overlay_has_error_colours_legend_and_title():
    rng = np.random.default_rng(0)
    rgb = (rng.random((64, 64, 3)) * 100).astype(np.uint8)  # dark: never an error colour
    truth = np.zeros((64, 64), np.uint8)
    truth[10:30, 10:30] = 1
    truth[0, :] = 255  # ignored row
    pred = np.zeros_like(truth)
    pred[20:40, 20:40] = 1
    errors = error_map(rgb, truth, pred)  # TP, FP, FN painted in their fixed colours
    c = ERROR_COLOURS
    assert (errors[25, 25] == c['true positive']).all()
    assert (errors[35, 35] == c['false positive']).all()
    assert (errors[12, 12] == c['false negative']).all()
    assert (errors[50, 5] == rgb[50, 5] // 2).all()  # elsewhere the dimmed image
    assert (errors[0, 25] == rgb[0, 25] // 2).all()  # ignored truth is no error
    fig = overlay_panel(rgb, truth, pred, title='tile_7')
    assert fig.ndim == 3 and fig.shape[1] > 4 * 64 and fig.shape[0] > 64
    for colour in ERROR_COLOURS.values():  # the panel and the legend show every colour
        assert _has_colour(fig, colour)
    # IoU of the sample: 10x10 overlap / (400 + 400 - 100)
    assert abs(sample_iou(truth, pred) - 100 / 700) < 1e-9
    assert sample_iou(None, pred) is None
    assert sample_iou(np.zeros_like(pred), np.zeros_like(pred)) is None


def test_overlay_without_truth_marks_predictions():
    rgb = np.zeros((32, 48, 3), np.uint8)
    pred = np.zeros((32, 48), np.uint8)
    pred[5:15, 5:25] = 1
    errors = error_map(rgb, None, pred)
    assert (errors[pred == 1] == ERROR_COLOURS['false positive']).all()
    assert (errors[pred == 0] == 0).all()
    assert overlay_panel(rgb, None, pred).shape[1] > 4 * 48
