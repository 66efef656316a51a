"""The model side of scene inference: build it, normalise tiles as the config does, predict.

A tile goes through the config's test pipeline minus the steps that do not apply to a tile cut
from a scene (file loading, geometry, packing:
:func:`lszoo.datasets.transforms.tile_steps.not_for_tiles`), then through the
model's own data preprocessor and public ``predict`` (inference and mmseg's post-processing),
as ``model.test_step`` does for a test sample.
"""
import time
from dataclasses import dataclass
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch

from lszoo.datasets.transforms.tile_steps import tile_value_steps
from lszoo.errors import ConfigError
from lszoo.geo.grid import QUANT, Tile
from lszoo.geo.reader import SceneReader, tile_input

from .prefetch import pin_for


def init_scene_model(config, checkpoint: Optional[str] = None, device: str = 'cpu'):
    """:func:`lszoo.apis.init_model`, returned as ``(model, cfg)``."""
    from ..inference import init_model
    model = init_model(config, checkpoint, device)
    return model, model.cfg


def build_normalizer(cfg, band_names: Sequence[str], stream_layout=None) -> Callable:
    """The per-tile value transforms of ``cfg``'s test pipeline (normalisation, NaN handling, band
    selection ...): everything but loading, geometry and packing.

    Returns ``f(img HxWxC float32) -> HxWxC float32`` with ``.steps`` naming what it applies.
    """
    steps = tile_value_steps(cfg)
    bands = list(band_names)

    def normalize(img: np.ndarray) -> np.ndarray:
        results = dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2],
                       band_names=bands, stream_layout=stream_layout, seg_fields=[],
                       img_path=None, reduce_zero_label=False)
        for name, step in steps:
            try:
                results = step(results)
            except Exception as err:
                raise ConfigError(f'test_pipeline transform {name} failed on a scene tile '
                                  f'({type(err).__name__}: {err})') from err
            if results is None:
                raise ConfigError(f'test_pipeline transform {name} dropped a scene tile')
        out = np.asarray(results['img'], dtype=np.float32)
        if out.shape[:2] != img.shape[:2]:
            raise ConfigError(f'test_pipeline transform changed the tile size {img.shape[:2]} '
                              f'-> {out.shape[:2]}; scene inference needs size-preserving steps')
        return out

    normalize.steps = [n for n, _ in steps]
    return normalize


@torch.no_grad()
def predict_tiles(model, batch: torch.Tensor) -> torch.Tensor:
    """Landslide probability ``N x H x W`` of a batch ``N x C x H x W``: the model's own data
    preprocessor, then its public ``predict`` (inference and mmseg's post-processing).

    The preprocessed batch is put in channels-last memory format: oneDNN's channels-last
    convolutions give a tile the same result whatever else is in its batch (NCHW ones do not),
    which keeps the outputs bit-identical for any block size and process count.
    """
    from mmseg.structures import SegDataSample

    n, _, h, w = batch.shape
    meta = dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w))
    data = model.data_preprocessor(
        dict(inputs=list(batch), data_samples=[SegDataSample(metainfo=meta) for _ in range(n)]),
        False)
    inputs = data['inputs'].contiguous(memory_format=torch.channels_last)
    samples = model.predict(inputs, data['data_samples'])
    # mmseg's post-processing applies the sigmoid of a one-channel head, not the softmax
    scores = torch.stack([s.seg_logits.data for s in samples])
    if scores.shape[1] == 1:
        return scores[:, 0]
    if scores.shape[1] == 2:
        return scores.softmax(1)[:, 1]
    raise ConfigError(f'the model outputs {scores.shape[1]} channels; scene inference needs a '
                      'binary model (1 sigmoid channel or 2 softmax channels)')


@dataclass
class TileBatch:
    """Tiles ready for the model: the tiles and their input ``N x C x H x W`` (float32, in
    pinned memory when the model is on a CUDA device)."""

    tiles: List[Tile]
    x: torch.Tensor


class TilePredictor:
    """Reads, normalises and predicts groups of tiles; keeps time per stage.

    The reader side (:meth:`read_batches`) and the model side (:meth:`predict_batch`) are apart
    so that the first can run ahead in another thread (:mod:`.prefetch`). ``model`` is a
    segmentor or any callable ``N x C x H x W -> N x H x W`` probability (an
    :class:`~lszoo.deploy.onnx_predictor.OnnxTileModel`); ``tta`` averages it over flipped /
    rotated views (:func:`lszoo.utils.tta.tta_probabilities`); with ``spread`` each tile also
    carries the views' standard deviation (:func:`.uncertainty.tta_mean_std`).
    """

    def __init__(self, model, reader: SceneReader, tile: int, normalize: Optional[Callable],
                 device, times: dict, tta: str = 'none', spread: bool = False):
        from functools import partial

        from lszoo.utils.tta import tta_probabilities
        self.model, self.reader, self.tile = model, reader, tile
        self.normalize, self.device, self.times = normalize, device, times
        fn = model if not isinstance(model, torch.nn.Module) else partial(predict_tiles, model)
        self.predict = fn if tta == 'none' else partial(tta_probabilities, fn, mode=tta)
        if spread and tta != 'none':
            from .uncertainty import tta_mean_std
            self.predict = partial(tta_mean_std, fn, mode=tta)

    def read_batches(self, batches: List[List[Tile]]) -> Iterator[TileBatch]:
        """The model input of each group of ``batches``, read with one window read."""
        mine = [t for group in batches for t in group]
        if not mine:
            return
        t0 = time.perf_counter()
        y0, y1 = min(t.y for t in mine), max(t.y + t.h for t in mine)
        x0, x1 = min(t.x for t in mine), max(t.x + t.w for t in mine)
        data = self.reader.read(y0, y1, x0, x1)
        valid = self.reader.valid(y0, y1, x0, x1)
        self.times['read'] += time.perf_counter() - t0
        for group in batches:
            t0 = time.perf_counter()
            if self.normalize is None:
                x = self._raw_batch(group, data, valid, y0, x0)
            else:
                x = np.stack([self.normalize(tile_input(data, valid, t, y0, x0, self.tile))
                              .transpose(2, 0, 1) for t in group])
            x = pin_for(torch.from_numpy(x), self.device)
            self.times['normalize'] += time.perf_counter() - t0
            yield TileBatch(group, x)

    def _raw_batch(self, group: List[Tile], data, valid, y0: int, x0: int) -> np.ndarray:
        """``N x C x tile x tile`` float32 raster values: whole tiles without holes copied
        straight from the window (no detour through ``H x W x C``), the others as
        :func:`~lszoo.geo.reader.tile_input` makes them; the same values either way."""
        n = self.tile
        x = np.empty((len(group), data.shape[0], n, n), np.float32)
        for i, t in enumerate(group):
            ys, xs = slice(t.y - y0, t.y - y0 + t.h), slice(t.x - x0, t.x - x0 + t.w)
            if (t.h, t.w) == (n, n) and (valid is None or valid[ys, xs].all()):
                x[i] = data[:, ys, xs]
            else:
                x[i] = tile_input(data, valid, t, y0, x0, n).transpose(2, 0, 1)
        return x

    def predict_batch(self, batch: TileBatch) -> List[Tuple[Tile, np.ndarray]]:
        """``(tile, uint16 round(p * QUANT))`` for every tile of ``batch`` (``2 x h x w`` with
        the spread of the views)."""
        t0 = time.perf_counter()
        p = self.predict(batch.x.to(self.device, non_blocking=True)).cpu().numpy()
        self.times['model'] += time.perf_counter() - t0
        p *= QUANT
        p += 0.5
        p = p.astype(np.uint16)  # round(p * QUANT)
        return [(t, np.ascontiguousarray(pt[..., :t.h, :t.w])) for t, pt in zip(batch.tiles, p)]

