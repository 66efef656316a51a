"""Date-aware loading and augmentation of bi-temporal (pre/post-event) samples.

A bi-temporal sample stacks both dates as channels (``stream_layout`` names each date's
channels, e.g. ``{'post': [0, 1, 2], 'pre': [3, 4, 5]}``), so mmcv's and lszoo's geometric
transforms (``RandomCrop``, ``RandomFlip``, ``RandomRot90``) already move both dates and the mask
together. What the dates need on top:

- photometric changes drawn independently per date (:class:`DatewisePhotometric`): two
  acquisitions differ in season, sun and sensor;
- a small random shift of one date (:class:`RandomMisregistration`): co-registration of real
  pairs is never exact, and a model trained on perfect pairs reads the residual shift as change;
- a pixel missing in either date cannot be compared (:class:`LoadBitemporalSample` marks it 255).
"""
from typing import Optional, Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from lszoo.errors import ConfigError
from .augment import OpticalPhotometric
from .loading import LoadLandslideSample


def _stream(results: dict, name: str, owner: str) -> list:
    layout = results.get('stream_layout') or {}
    if name not in layout:
        raise ConfigError(f'{owner}: the sample has no stream {name!r} (stream_layout: '
                          f'{dict(layout)}); set the dataset\'s stream_layout')
    return [int(c) for c in layout[name]]


@TRANSFORMS.register_module()
class LoadBitemporalSample(LoadLandslideSample):
    """:class:`LoadLandslideSample` that ignores (mask 255) pixels missing in either date.

    A pixel is missing in a date when any of its bands is NaN/inf or the file's nodata value
    (these are filled as usual, so the image stays finite), or when every band of that date's
    stream equals ``nodata_value`` (e.g. 0 for the black, unimaged border of a PNG scene).

    Args:
        date_streams: the streams holding one date each.
        nodata_value: see above; ``None`` checks only NaN/inf and the files' nodata.
        **kwargs: :class:`LoadLandslideSample` arguments.
    """

    def __init__(self, date_streams: Sequence[str] = ('post', 'pre'),
                 nodata_value: Optional[float] = None, **kwargs):
        super().__init__(**kwargs)
        self.date_streams = tuple(date_streams)
        self.nodata_value = nodata_value
        self._holes = None

    def _fill(self, arr, nodata, path, role):
        bad = ~np.isfinite(arr)
        if nodata is not None:
            bad |= arr == nodata
        if bad.any():
            holes = bad.any(axis=2)
            self._holes = holes if self._holes is None else self._holes | holes
        return super()._fill(arr, nodata, path, role)

    def transform(self, results: dict):
        self._holes = None
        out = super().transform(results)
        if out is None or 'gt_seg_map' not in out:
            return out
        holes = self._holes
        if self.nodata_value is not None:
            for name in self.date_streams:
                chans = _stream(out, name, 'LoadBitemporalSample')
                empty = (out['img'][..., chans] == self.nodata_value).all(axis=2)
                holes = empty if holes is None else holes | empty
        if holes is not None and holes.any():
            seg = out['gt_seg_map'].copy()
            seg[holes] = 255
            out['gt_seg_map'] = seg
        return out

    def __repr__(self):
        return (f'{type(self).__name__}(date_streams={self.date_streams}, '
                f'nodata_value={self.nodata_value!r})')


@TRANSFORMS.register_module()
class DatewisePhotometric(BaseTransform):
    """Photometric changes drawn independently for each date's stream.

    Per stream in ``streams``: brightness and contrast as :class:`OpticalPhotometric` (each with
    probability ``prob``, its own draw per date), then with probability ``prob`` a per-band gain
    ``U(1 - band_gain, 1 + band_gain)`` (a colour shift, as between seasons or sensors).
    """

    def __init__(self, streams: Sequence[str] = ('post', 'pre'), prob: float = 0.5,
                 brightness: float = 0.1, contrast: float = 0.1, band_gain: float = 0.05):
        if not 0 <= prob <= 1:
            raise ConfigError(f'DatewisePhotometric: prob must be in [0, 1], got {prob}')
        self.streams, self.prob, self.band_gain = tuple(streams), prob, band_gain
        self.brightness, self.contrast = brightness, contrast
        self._per_stream = [OpticalPhotometric(streams=[s], prob=prob, brightness=brightness,
                                               contrast=contrast) for s in self.streams]

    def transform(self, results: dict) -> dict:
        for name, photometric in zip(self.streams, self._per_stream):
            chans = _stream(results, name, 'DatewisePhotometric')
            results = photometric.transform(results)
            if self.band_gain and np.random.rand() < self.prob:
                gain = np.random.uniform(1 - self.band_gain, 1 + self.band_gain, len(chans))
                img = np.array(results['img'], np.float32, copy=True)
                img[..., chans] *= gain.astype(np.float32)
                results['img'] = img
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(streams={self.streams}, prob={self.prob}, '
                f'brightness={self.brightness}, contrast={self.contrast}, '
                f'band_gain={self.band_gain})')


@TRANSFORMS.register_module()
class RandomMisregistration(BaseTransform):
    """Shift one date's channels by a random sub-pixel offset (training only).

    With probability ``prob`` the channels of ``stream`` move by ``(dy, dx)``, each uniform in
    ``[-max_shift, max_shift]`` pixels (bilinear, borders reflected); the mask and the other
    date stay put. The offset is recorded as ``misregistration``.
    """

    def __init__(self, stream: str = 'pre', max_shift: float = 1.5, prob: float = 0.5):
        if max_shift < 0 or not 0 <= prob <= 1:
            raise ConfigError(f'RandomMisregistration: need max_shift >= 0 and prob in [0, 1], '
                              f'got {max_shift}, {prob}')
        self.stream, self.max_shift, self.prob = stream, float(max_shift), prob

    def transform(self, results: dict) -> dict:
        chans = _stream(results, self.stream, 'RandomMisregistration')
        if not self.max_shift or np.random.rand() >= self.prob:
            return results
        dy, dx = np.random.uniform(-self.max_shift, self.max_shift, 2)
        img = np.array(results['img'], np.float32, copy=True)
        h, w = img.shape[:2]
        warp = np.float32([[1, 0, dx], [0, 1, dy]])
        for c in chans:
            img[..., c] = cv2.warpAffine(img[..., c], warp, (w, h), flags=cv2.INTER_LINEAR,
                                         borderMode=cv2.BORDER_REFLECT)
        results['img'] = img
        results['misregistration'] = (float(dy), float(dx))
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(stream={self.stream!r}, max_shift={self.max_shift}, '
                f'prob={self.prob})')
