"""Gaussian and salt-and-pepper noise for N-band float images, per stream.

Two of the DiGATe-UNet training augmentations (flips, gaussian noise, salt-and-pepper and CLAHE,
each with p=0.5, on per-image min-max [0, 1] inputs; Bijie recipe of the DiGATe-UNet paper,
reference code mishaown/DiGATe-UNet-LandSlide-Segmentation, ``dataset/transforms.py``).
mmseg has no noise transform for float N-band arrays, so they are here. Both change only the
channels of the chosen streams (``stream_layout`` of the sample, see docs/architecture.md),
draw from ``numpy.random`` as mmcv transforms do (so ``mmengine``'s seeding makes them
reproducible), return a new float32 ``img`` (the input array is never written to: in-memory
datasets keep theirs) and leave ``gt_seg_map`` alone.
"""
from numbers import Real
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmseg.registry import TRANSFORMS

from lszoo.errors import ConfigError


def check_prob(owner: str, prob) -> float:
    """``prob`` as a float in [0, 1], else :class:`ConfigError`."""
    if isinstance(prob, bool) or not isinstance(prob, Real) or not 0 <= prob <= 1:
        raise ConfigError(f'{owner}: prob must be a number in [0, 1], got {prob!r}')
    return float(prob)


def check_streams(owner: str, streams) -> Optional[Tuple[str, ...]]:
    """``None`` (all channels) or a non-empty tuple of stream names (a bare string is one
    name)."""
    if streams is None:
        return None
    if isinstance(streams, str):
        streams = (streams, )
    try:
        streams = tuple(streams)
    except TypeError:
        raise ConfigError(f'{owner}: streams must be None or a sequence of stream names, '
                          f'got {streams!r}') from None
    if not streams or not all(isinstance(s, str) for s in streams):
        raise ConfigError(f'{owner}: streams must be None or a non-empty sequence of stream '
                          f'names, got {streams!r}')
    return streams


def float_image(owner: str, results: dict) -> np.ndarray:
    """``results['img']`` as a float32 ``H x W x C`` array (a view when it already is one)."""
    if 'img' not in results:
        raise ConfigError(f'{owner}: the sample has no `img` (put LoadLandslideSample before '
                          f'{owner} in the pipeline)')
    img = np.asarray(results['img'], dtype=np.float32)
    if img.ndim != 3:
        raise ConfigError(f'{owner}: expects `img` as an H x W x C array, got shape '
                          f'{img.shape}')
    return img


def stream_channels(owner: str, results: dict, streams: Optional[Tuple[str, ...]],
                    num_channels: int) -> List[int]:
    """Sorted channel indices of ``streams`` in the sample's ``stream_layout`` (all channels
    when ``streams`` is None); a stream the sample lacks is a :class:`ConfigError`."""
    if streams is None:
        return list(range(num_channels))
    layout = results.get('stream_layout')
    if not layout:
        raise ConfigError(f'{owner}: streams={list(streams)} but the sample has no '
                          f'stream_layout (put LoadLandslideSample first in the pipeline, or '
                          f'use streams=None for all channels)')
    missing = [s for s in streams if s not in layout]
    if missing:
        raise ConfigError(f'{owner}: stream(s) {missing} not in the sample\'s stream_layout '
                          f'(it has {list(layout)})')
    chans = sorted({int(c) for s in streams for c in layout[s]})
    bad = [c for c in chans if not 0 <= c < num_channels]
    if bad:
        raise ConfigError(f'{owner}: stream_layout channels {bad} out of range for an image '
                          f'with {num_channels} channels')
    return chans


class _StreamTransform(BaseTransform):
    """Shared part: apply ``_apply(img, chans)`` with probability ``prob`` on the channels of
    ``streams``."""

    def __init__(self, prob: float, streams):
        name = type(self).__name__
        self.prob = check_prob(name, prob)
        self.streams = check_streams(name, streams)

    @cache_randomness
    def _do(self) -> bool:
        return bool(np.random.rand() < self.prob)

    def _apply(self, img: np.ndarray, chans: List[int]) -> np.ndarray:
        raise NotImplementedError

    def transform(self, results: dict) -> dict:
        name = type(self).__name__
        img = float_image(name, results)
        chans = stream_channels(name, results, self.streams, img.shape[2])
        if not self._do() or not chans:
            return results
        results['img'] = np.ascontiguousarray(self._apply(img, chans), dtype=np.float32)
        return results


@TRANSFORMS.register_module()
class RandomGaussianNoise(_StreamTransform):
    """Add zero-mean gaussian noise to the channels of ``streams``, with probability ``prob``.

    ``std`` is in image units (for per-image min-max [0, 1] inputs, a fraction of each band's
    range); a pair ``(low, high)`` draws the std uniformly per call. The DiGATe-UNet reference
    adds N(0, 0.05) to both streams (RGB and DEM) of its [0, 1] inputs: ``std=0.05,
    streams=None``. The result is not clipped (the reference does not clip either).

    Args:
        prob: probability of applying the noise to a sample.
        std: noise standard deviation, or a ``(low, high)`` range to draw it from.
        streams: stream names of ``stream_layout`` to change; ``None`` for every channel.
    """

    def __init__(self, prob: float = 0.5, std: Union[float, Sequence[float]] = 0.05,
                 streams: Optional[Sequence[str]] = None):
        super().__init__(prob, streams)
        if isinstance(std, Real) and not isinstance(std, bool):
            low = high = float(std)
        elif (isinstance(std, Sequence) and len(std) == 2
              and all(isinstance(v, Real) and not isinstance(v, bool) for v in std)):
            low, high = float(std[0]), float(std[1])
        else:
            raise ConfigError(f'RandomGaussianNoise: std must be a number or a (low, high) '
                              f'pair, got {std!r}')
        if not (np.isfinite(low) and np.isfinite(high) and 0 <= low <= high):
            raise ConfigError(f'RandomGaussianNoise: std must be finite with '
                              f'0 <= low <= high, got {std!r}')
        self.std = (low, high)

    def _apply(self, img, chans):
        low, high = self.std
        std = low if low == high else np.random.uniform(low, high)
        out = img.copy()
        h, w = img.shape[:2]
        noise = np.random.standard_normal((h, w, len(chans))).astype(np.float32)
        out[..., chans] += noise * np.float32(std)
        return out

    def __repr__(self):
        std = self.std[0] if self.std[0] == self.std[1] else self.std
        return (f'{type(self).__name__}(prob={self.prob}, std={std}, '
                f'streams={self.streams})')


@TRANSFORMS.register_module()
class RandomSaltPepper(_StreamTransform):
    """Salt-and-pepper noise on the channels of ``streams``, with probability ``prob``.

    Each pixel is hit independently with probability ``amount``; a hit pixel becomes "salt"
    with probability ``salt_vs_pepper``, else "pepper". Salt sets every chosen channel at that
    pixel to the channel's maximum over the image, pepper to its minimum (both taken before the
    change), so the values stay inside each band's range whatever its units; for per-image
    min-max [0, 1] inputs they are 1 and 0, as in the DiGATe-UNet reference. The reference
    draws ``0.005 * H * W`` salt and as many pepper positions independently per channel:
    ``amount=0.01, per_channel=True`` here; ``per_channel=False`` hits all chosen channels of
    a pixel together.

    Args:
        prob: probability of applying the noise to a sample.
        amount: expected fraction of pixels changed, in [0, 1].
        salt_vs_pepper: share of the changed pixels set to the maximum, in [0, 1].
        streams: stream names of ``stream_layout`` to change; ``None`` for every channel.
        per_channel: draw the hit pixels independently for each channel.
    """

    def __init__(self, prob: float = 0.5, amount: float = 0.01, salt_vs_pepper: float = 0.5,
                 streams: Optional[Sequence[str]] = None, per_channel: bool = False):
        super().__init__(prob, streams)
        for key, value in (('amount', amount), ('salt_vs_pepper', salt_vs_pepper)):
            if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value <= 1:
                raise ConfigError(f'RandomSaltPepper: {key} must be a number in [0, 1], '
                                  f'got {value!r}')
        self.amount = float(amount)
        self.salt_vs_pepper = float(salt_vs_pepper)
        self.per_channel = bool(per_channel)

    def _apply(self, img, chans):
        out = img.copy()
        x = img[..., chans]
        lo = x.min(axis=(0, 1))
        hi = x.max(axis=(0, 1))
        shape = x.shape if self.per_channel else img.shape[:2]
        u = np.random.rand(*shape)
        salt = u < self.amount * self.salt_vs_pepper
        pepper = ~salt & (u < self.amount)
        if self.per_channel:
            x = np.where(salt, hi, np.where(pepper, lo, x))
        else:
            x[salt] = hi
            x[pepper] = lo
        out[..., chans] = x
        return out

    def __repr__(self):
        return (f'{type(self).__name__}(prob={self.prob}, amount={self.amount}, '
                f'salt_vs_pepper={self.salt_vs_pepper}, streams={self.streams}, '
                f'per_channel={self.per_channel})')
