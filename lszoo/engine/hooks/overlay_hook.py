"""A hook that writes image / truth / prediction / errors figures as PNG files.

mmseg's ``SegVisualizationHook`` re-reads each image from ``img_path`` with an 8-bit reader, which
fails for N-band float rasters and in-memory synthetic samples. This hook draws from the batch
itself (the pipeline's float ``H x W x C`` image), picks three display channels from the sample's
``band_names`` / ``stream_layout`` and stretches them for display.
"""
import os
import os.path as osp
import re
from typing import Optional, Sequence

import cv2
import numpy as np
from mmengine.hooks import Hook

from mmseg.registry import HOOKS

from lszoo.geo.display import pick_display_channels, stretch_to_uint8
from lszoo.utils.fileio import atomic_path

def _write_png(path: str, image: np.ndarray) -> None:
    with atomic_path(path, '.png') as tmp:  # OpenCV picks the format by extension
        if not cv2.imwrite(tmp, image):
            raise OSError(f'cannot write {path}')


# fixed colours (RGB) of the error panel, as the README describes
ERROR_COLOURS = {'true positive': (0, 200, 0), 'false positive': (230, 0, 0),
                 'false negative': (0, 80, 230)}


def _mask_to_rgb(mask: np.ndarray) -> np.ndarray:
    """0 black, 1 white, anything else (ignore, 255) grey."""
    out = np.full(mask.shape + (3,), 128, np.uint8)
    out[mask == 0] = 0
    out[mask == 1] = 255
    return out


def error_map(rgb: np.ndarray, truth: Optional[np.ndarray], pred: np.ndarray) -> np.ndarray:
    """The dimmed image with true positives, false positives and false negatives painted in
    :data:`ERROR_COLOURS` (no truth: predictions in the false-positive colour)."""
    out = (rgb * 0.5).astype(np.uint8)
    if truth is not None:
        c = ERROR_COLOURS
        out[(pred == 1) & (truth == 1)] = c['true positive']
        out[(pred == 1) & (truth == 0)] = c['false positive']
        out[(pred == 0) & (truth == 1)] = c['false negative']
    else:
        out[pred == 1] = ERROR_COLOURS['false positive']
    return out


def sample_iou(truth: Optional[np.ndarray], pred: np.ndarray) -> Optional[float]:
    """Landslide IoU of one sample (pixels labelled 0/1 only); None without truth or when
    neither truth nor prediction holds landslide."""
    if truth is None:
        return None
    valid = truth <= 1
    inter = int(((pred == 1) & (truth == 1) & valid).sum())
    union = int((((pred == 1) | (truth == 1)) & valid).sum())
    return inter / union if union else None


def overlay_panel(rgb: np.ndarray, truth: Optional[np.ndarray], pred: np.ndarray,
                  title: Optional[str] = None) -> np.ndarray:
    """A titled figure: image | truth | prediction | errors, with a legend of the error colours.

    Args:
        rgb: ``H x W x 3`` uint8 in RGB order.
        truth: ``H x W`` 0/1/255 or None (no label: a grey panel).
        pred: ``H x W`` 0/1.
        title: figure title (the sample's IoU is appended when there is truth).

    Returns:
        The figure as an ``H' x W' x 3`` uint8 array in BGR order (for ``cv2.imwrite``).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    h, w = pred.shape
    grey = np.full((h, w, 3), 128, np.uint8)
    panels = [('image', rgb), ('truth', _mask_to_rgb(truth) if truth is not None else grey),
              ('prediction', _mask_to_rgb(pred)), ('errors', error_map(rgb, truth, pred))]
    iou = sample_iou(truth, pred)
    full_title = (title or '') + (f'  (landslide IoU {100 * iou:.1f} %)' if iou is not None
                                  else '')
    panel_in = 2.4
    fig = Figure(figsize=(4 * panel_in, panel_in * h / w + 1.1), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 4)
    for ax, (name, img) in zip(axes, panels):
        ax.imshow(img, interpolation='nearest')
        ax.set_title(name, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    handles = [Patch(color=np.array(c) / 255, label=k) for k, c in ERROR_COLOURS.items()]
    handles += [Patch(facecolor='white', edgecolor='black', label='landslide (truth, '
                      'prediction)')]
    fig.legend(handles=handles, loc='lower center', ncol=4, fontsize=8, frameon=False)
    if full_title.strip():
        fig.suptitle(full_title.strip(), fontsize=11)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.80 if full_title.strip() else 0.88,
                        bottom=0.14, wspace=0.04)
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    return np.ascontiguousarray(img[..., ::-1])


def _stem(sample, index: int) -> str:
    """A file name for the sample: ``<parent folder>_<stem>`` of its image (tiles of different
    scenes often share a stem), the stem alone for ``scheme://`` paths, else the index."""
    path = str(sample.metainfo.get('img_path') or '').rstrip('/')
    stem = osp.splitext(osp.basename(path))[0]
    parent = osp.basename(osp.dirname(path)) if '://' not in path else ''
    name = '_'.join(p for p in (parent, stem) if p) or f'sample{index}'
    return re.sub(r'[^A-Za-z0-9_.-]+', '_', name)


@HOOKS.register_module()
class LandslideOverlayHook(Hook):
    """Write ``image | truth | prediction | errors`` PNG panels during testing (and optionally
    validation) into ``<work_dir>/<out_dir>``.

    Args:
        out_dir: folder under the run's work dir (an absolute path is used as is).
        max_images: panels written per run (per process); ``None`` for all.
        rgb_channels: channel indices shown as R, G, B; by default chosen from the sample's
            ``band_names`` / ``stream_layout``.
        pred_dir: if set, every prediction is also saved as a single-band PNG (0/1) there.
        on_val: also write panels after validation (overwriting the previous ones).
    """

    priority = 'LOW'

    def __init__(self, out_dir: str = 'overlays', max_images: Optional[int] = 4,
                 rgb_channels: Optional[Sequence[int]] = None, pred_dir: Optional[str] = None,
                 on_val: bool = False) -> None:
        self.out_dir = out_dir
        self.max_images = max_images
        self.rgb_channels = rgb_channels
        self.pred_dir = pred_dir
        self.on_val = on_val
        self._count = 0
        self._names = set()
        self.written = []

    def _resolve(self, runner, folder: str) -> str:
        path = folder if osp.isabs(folder) else osp.join(runner.work_dir, folder)
        os.makedirs(path, exist_ok=True)
        return path

    def before_test(self, runner) -> None:
        self._count, self._names = 0, set()

    def before_val(self, runner) -> None:
        self._count, self._names = 0, set()

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._write(runner, data_batch, outputs)

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if self.on_val:
            self._write(runner, data_batch, outputs)

    def _write(self, runner, data_batch, outputs) -> None:
        if not outputs or data_batch is None:
            return
        inputs = data_batch['inputs']
        if inputs and isinstance(inputs[0], (list, tuple)):
            inputs = inputs[0]  # a TTA batch (one list per view): view 0 is the identity
        for i, sample in enumerate(outputs):
            pred = sample.pred_sem_seg.data.squeeze(0).cpu().numpy().astype(np.uint8)
            name = _stem(sample, self._count)
            if name in self._names:  # same name twice in one run: keep both
                name = f'{name}_{self._count}'
            self._names.add(name)
            if self.pred_dir is not None:
                _write_png(osp.join(self._resolve(runner, self.pred_dir), name + '.png'), pred)
            if self.max_images is not None and self._count >= self.max_images:
                self._count += 1
                continue
            img = inputs[i].detach().cpu().float().numpy().transpose(1, 2, 0)
            channels = pick_display_channels(img.shape[2], sample.metainfo.get('band_names'),
                                             sample.metainfo.get('stream_layout'),
                                             self.rgb_channels)
            rgb = stretch_to_uint8(img[..., channels])
            h, w = rgb.shape[:2]
            if pred.shape != (h, w):
                pred = cv2.resize(pred, (w, h), interpolation=cv2.INTER_NEAREST)
            truth = None
            if 'gt_sem_seg' in sample:
                truth = sample.gt_sem_seg.data.squeeze(0).cpu().numpy().astype(np.uint8)
                truth = truth[:h, :w]
                if truth.shape != (h, w):
                    truth = cv2.resize(truth, (w, h), interpolation=cv2.INTER_NEAREST)
            path = osp.join(self._resolve(runner, self.out_dir), name + '.png')
            _write_png(path, overlay_panel(rgb, truth, pred, title=name))
            self.written.append(path)
            self._count += 1
