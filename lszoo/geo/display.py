"""Display of N-band rasters: which three channels to show as RGB, and a percentile stretch.

Used by the scene quicklook (:mod:`lszoo.geo.quicklook`) and the training overlay hook.
"""
from typing import Optional, Sequence

import numpy as np

# display channel names in preference order: true colour, then Sentinel-2 true colour
_RGB_NAMES = (('R', 'G', 'B'), ('B4', 'B3', 'B2'), ('red', 'green', 'blue'))


def pick_display_channels(num_channels: int, band_names=None, stream_layout=None,
                          rgb_channels: Optional[Sequence[int]] = None) -> list:
    """Choose three channel indices to show: explicit, named RGB, the optical stream, or 0..2."""
    if rgb_channels is not None:
        return [int(c) for c in rgb_channels]
    if band_names:
        for names in _RGB_NAMES:
            if all(n in band_names for n in names):
                return [list(band_names).index(n) for n in names]
    if stream_layout:
        optical = stream_layout.get('optical') or next(iter(stream_layout.values()))
        if len(optical) >= 3:
            return list(optical[:3])
        return [optical[0]] * 3
    if num_channels >= 3:
        return [0, 1, 2]
    return [0, 0, 0]


def stretch_to_uint8(img: np.ndarray) -> np.ndarray:
    """Per-channel 2-98 % percentile stretch of an ``H x W x 3`` float array to uint8."""
    img = np.nan_to_num(img.astype(np.float32))
    out = np.empty(img.shape, np.uint8)
    for c in range(img.shape[2]):
        lo, hi = np.percentile(img[..., c], (2, 98))
        if hi <= lo:
            hi = lo + 1e-6
        out[..., c] = np.clip((img[..., c] - lo) / (hi - lo) * 255, 0, 255).astype(np.uint8)
    return out
