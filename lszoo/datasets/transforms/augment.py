"""Normalisation and augmentation of N-band float images.

mmcv/mmseg already handle N channels for flips (``RandomFlip``), crops (``RandomCrop``) and
resizing (``Resize``: bilinear for ``img``, nearest for ``gt_seg_map``), so only what they lack
is here: per-band normalisation chosen by band name, 90-degree rotations, and photometric
changes restricted to the optical streams (never applied to DEM or slope).
"""
from typing import Dict, Optional, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from lszoo.errors import ConfigError

Number = Union[int, float]


@TRANSFORMS.register_module()
class NormalizeBands(BaseTransform):
    """Normalise ``img`` per band.

    Modes:
        ``'meanstd'``: ``(x - mean) / std`` per band. ``mean``/``std`` are either sequences
        with one value per channel, or dicts band name -> value looked up through the
        sample's ``band_names`` (so changing ``bands`` in a config keeps the right
        statistics); a missing band is a :class:`ConfigError`.
        ``'minmax'``: per image and band, ``(x - min) / (max - min)`` to [0, 1] (the DiGATe-UNet
        recipe); a constant band becomes 0.
        ``'scale'``: ``x / scale`` (e.g. 255 for uint8 RGB to [0, 1], the GeoNeXt recipe).
    """

    def __init__(self, mode: str = 'meanstd',
                 mean: Optional[Union[Sequence[Number], Dict[str, Number]]] = None,
                 std: Optional[Union[Sequence[Number], Dict[str, Number]]] = None,
                 scale: Number = 255.0, eps: float = 1e-6):
        if mode not in ('meanstd', 'minmax', 'scale'):
            raise ConfigError(f"NormalizeBands: mode must be 'meanstd', 'minmax' or 'scale', "
                              f'got {mode!r}')
        if mode == 'meanstd' and (mean is None or std is None):
            raise ConfigError("NormalizeBands: mode 'meanstd' needs `mean` and `std`")
        self.mode, self.mean, self.std, self.scale, self.eps = mode, mean, std, scale, eps

    def _values(self, spec, names, channels, what):
        if isinstance(spec, dict):
            missing = [n for n in names if n not in spec]
            if missing:
                raise ConfigError(f'NormalizeBands: no {what} for bands {missing} '
                                  f'(given for {sorted(spec)})')
            vals = [spec[n] for n in names]
        else:
            vals = list(spec)
            if len(vals) != channels:
                raise ConfigError(f'NormalizeBands: {len(vals)} {what} values for an image with '
                                  f'{channels} bands {names}')
        return np.asarray(vals, np.float32)

    def transform(self, results: dict) -> dict:
        img = np.asarray(results['img'], np.float32)
        c = img.shape[2]
        names = list(results.get('band_names', [str(i) for i in range(c)]))
        if self.mode == 'meanstd':
            mean = self._values(self.mean, names, c, 'mean')
            std = self._values(self.std, names, c, 'std')
            if np.any(std <= 0):
                raise ConfigError(f'NormalizeBands: std must be > 0, got {std.tolist()}')
            img = (img - mean) / std
        elif self.mode == 'minmax':
            lo = img.min(axis=(0, 1), keepdims=True)
            hi = img.max(axis=(0, 1), keepdims=True)
            rng = hi - lo
            img = np.where(rng > self.eps, (img - lo) / np.maximum(rng, self.eps), 0.0)
        else:
            img = img / np.float32(self.scale)
        results['img'] = np.ascontiguousarray(img, dtype=np.float32)
        results['img_norm_cfg'] = dict(mode=self.mode)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(mode={self.mode!r})'


@TRANSFORMS.register_module()
class RandomRot90(BaseTransform):
    """Rotate ``img`` and every ``seg_fields`` map by k * 90 degrees, k uniform in {1, 2, 3},
    with probability ``prob`` (any number of channels; non-square images change shape)."""

    def __init__(self, prob: float = 0.5):
        if not 0 <= prob <= 1:
            raise ConfigError(f'RandomRot90: prob must be in [0, 1], got {prob}')
        self.prob = prob

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        k = int(np.random.randint(1, 4))
        results['img'] = np.ascontiguousarray(np.rot90(results['img'], k, axes=(0, 1)))
        for key in results.get('seg_fields', []):
            results[key] = np.ascontiguousarray(np.rot90(results[key], k, axes=(0, 1)))
        results['img_shape'] = results['img'].shape[:2]
        results['rot90_k'] = k
        return results

    def __repr__(self):
        return f'{type(self).__name__}(prob={self.prob})'


@TRANSFORMS.register_module()
class OpticalPhotometric(BaseTransform):
    """Photometric changes on the optical stream(s) only, for float images.

    Each change is applied with probability ``prob``, on the channels listed in
    ``stream_layout[s]`` for ``s`` in ``streams`` (DEM/slope channels are never touched):
    brightness (add ``U(-brightness, brightness) * band range``), contrast (scale around the
    band mean by ``U(1 - contrast, 1 + contrast)``), gaussian noise (std ``noise_std`` times the
    band range) and salt-and-pepper (a fraction ``salt_pepper`` of pixels set to the band
    min or max), the last two as in the DiGATe-UNet recipe.
    """

    def __init__(self, streams: Sequence[str] = ('optical',), prob: float = 0.5,
                 brightness: float = 0.1, contrast: float = 0.1, noise_std: float = 0.0,
                 salt_pepper: float = 0.0):
        self.streams = tuple(streams)
        self.prob, self.brightness, self.contrast = prob, brightness, contrast
        self.noise_std, self.salt_pepper = noise_std, salt_pepper

    def _channels(self, results):
        layout = results.get('stream_layout')
        if not layout:
            raise ConfigError('OpticalPhotometric: the sample has no stream_layout (put '
                              'LoadLandslideSample first in the pipeline)')
        chans = []
        for s in self.streams:
            if s in layout:
                chans.extend(int(c) for c in layout[s])
        return sorted(set(chans))

    def transform(self, results: dict) -> dict:
        chans = self._channels(results)
        if not chans:
            return results
        img = np.array(results['img'], np.float32, copy=True)
        x = img[..., chans]
        lo = x.min(axis=(0, 1))
        hi = x.max(axis=(0, 1))
        rng = np.maximum(hi - lo, 1e-6)
        if self.brightness and np.random.rand() < self.prob:
            x = x + np.random.uniform(-self.brightness, self.brightness) * rng
        if self.contrast and np.random.rand() < self.prob:
            mean = x.mean(axis=(0, 1))
            x = (x - mean) * np.random.uniform(1 - self.contrast, 1 + self.contrast) + mean
        if self.noise_std and np.random.rand() < self.prob:
            x = x + np.random.normal(0, self.noise_std, x.shape).astype(np.float32) * rng
        if self.salt_pepper and np.random.rand() < self.prob:
            u = np.random.rand(*x.shape[:2])
            x[u < self.salt_pepper / 2] = lo
            x[u > 1 - self.salt_pepper / 2] = hi
        img[..., chans] = x
        results['img'] = img
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(streams={self.streams}, prob={self.prob}, '
                f'brightness={self.brightness}, contrast={self.contrast}, '
                f'noise_std={self.noise_std}, salt_pepper={self.salt_pepper})')


#: PackSegInputs meta keys that carry the lszoo sample contract and georeferencing.
LANDSLIDE_META_KEYS = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape',
                       'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label',
                       'band_names', 'stream_layout', 'crs', 'transform')
