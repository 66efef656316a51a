"""CLAHE (contrast limited adaptive histogram equalisation) per band, for float images.

One of the DiGATe-UNet training augmentations (Bijie recipe: flips, gaussian noise,
salt-and-pepper and CLAHE each with p=0.5 on per-image min-max [0, 1] inputs; reference code
mishaown/DiGATe-UNet-LandSlide-Segmentation, ``dataset/transforms.py``). mmseg's ``CLAHE``
takes uint8 3-channel images only; :class:`BandCLAHE` works on any number of float32 bands and
only on the chosen streams.
"""
from numbers import Integral, Real
from typing import Sequence, Tuple

import cv2
import numpy as np
from mmseg.registry import TRANSFORMS

from lszoo.errors import ConfigError
from .noise import _StreamTransform

_LEVELS = {8: (np.uint8, 255), 16: (np.uint16, 65535)}


@TRANSFORMS.register_module()
class BandCLAHE(_StreamTransform):
    """OpenCV CLAHE on each channel of ``streams``, with probability ``prob``.

    Each chosen channel is mapped linearly from its own ``[min, max]`` to the integers
    ``[0, 2**bit_depth - 1]``, equalised with ``cv2.createCLAHE(clip_limit, tile_grid_size)``
    and mapped back with the same linear map, so the result stays inside the channel's
    original range (quantised to ``2**bit_depth`` levels). A constant (or non-finite) channel
    is left as it is. For [0, 1] inputs spanning the full range with ``bit_depth=8`` this is
    the reference's ``clahe.apply(uint8(x * 255)) / 255`` (up to rounding: the reference
    truncates, this rounds to the nearest level).

    ``bit_depth=16`` keeps finer levels, but OpenCV scales the clip limit by
    ``tile area / 65536`` bins, so with ``clip_limit=2`` and tiles smaller than ~180x180
    pixels the limit hits its floor of one count per level and the result is close to
    unlimited adaptive equalisation; 8 (the default, as the
    reference) is the usual choice.

    By default only the ``'optical'`` stream is changed: CLAHE would distort the metric
    meaning of DEM heights and slopes. (The reference applies it to its DEM stream too; pass
    ``streams=None`` for that.)

    Args:
        prob: probability of applying CLAHE to a sample.
        clip_limit: OpenCV contrast limit (> 0), 2.0 in the reference.
        tile_grid_size: number of tiles ``(rows, cols)``, 8x8 in the reference.
        streams: stream names of ``stream_layout`` to change; ``None`` for every channel.
        bit_depth: 8 or 16, the integer depth CLAHE works at.
    """

    def __init__(self, prob: float = 0.5, clip_limit: float = 2.0,
                 tile_grid_size: Sequence[int] = (8, 8),
                 streams: Sequence[str] = ('optical', ), bit_depth: int = 8):
        super().__init__(prob, streams)
        if (isinstance(clip_limit, bool) or not isinstance(clip_limit, Real)
                or not np.isfinite(clip_limit) or clip_limit <= 0):
            raise ConfigError(f'BandCLAHE: clip_limit must be a finite number > 0, '
                              f'got {clip_limit!r}')
        if (isinstance(tile_grid_size, (str, bytes)) or not isinstance(tile_grid_size, Sequence)
                or len(tile_grid_size) != 2
                or not all(isinstance(t, Integral) and not isinstance(t, bool) and t > 0
                           for t in tile_grid_size)):
            raise ConfigError(f'BandCLAHE: tile_grid_size must be two positive integers '
                              f'(rows, cols), got {tile_grid_size!r}')
        if bit_depth not in _LEVELS or isinstance(bit_depth, bool):
            raise ConfigError(f'BandCLAHE: bit_depth must be 8 or 16, got {bit_depth!r}')
        self.clip_limit = float(clip_limit)
        self.tile_grid_size: Tuple[int, int] = (int(tile_grid_size[0]), int(tile_grid_size[1]))
        self.bit_depth = int(bit_depth)

    def _apply(self, img, chans):
        dtype, top = _LEVELS[self.bit_depth]
        # cv2 takes (width, height) tiles; created per call so the transform stays picklable
        clahe = cv2.createCLAHE(clipLimit=self.clip_limit,
                                tileGridSize=(self.tile_grid_size[1], self.tile_grid_size[0]))
        out = img.copy()
        for c in chans:
            x = img[..., c].astype(np.float64)
            lo, hi = x.min(), x.max()
            if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
                continue
            q = np.rint((x - lo) * (top / (hi - lo))).astype(dtype)
            eq = clahe.apply(np.ascontiguousarray(q)).astype(np.float64)
            out[..., c] = np.clip(lo + eq * ((hi - lo) / top), lo, hi)
        return out

    def __repr__(self):
        return (f'{type(self).__name__}(prob={self.prob}, clip_limit={self.clip_limit}, '
                f'tile_grid_size={self.tile_grid_size}, streams={self.streams}, '
                f'bit_depth={self.bit_depth})')
