"""Filling nodata holes: the one rule the dataset loaders and scene inference share."""
import numpy as np


def fill_nodata(arr: np.ndarray, bad: np.ndarray, fill='median') -> int:
    """Replace the ``bad`` values of each channel of ``H x W x C`` float ``arr`` in place.

    ``fill`` is ``'median'`` (the median of the channel's valid values, so that a hole in a DEM
    does not become a cliff; 0 if none is valid) or a number. ``bad`` is ``H x W`` (the same
    pixels in every channel) or ``H x W x C``. Used by the dataset loaders and scene inference.
    Returns the number of replaced values.
    """
    if bad.ndim == 2:
        bad = np.broadcast_to(bad[..., None], arr.shape)
    total = 0
    for c in range(arr.shape[2]):
        b = bad[..., c]
        if not b.any():
            continue
        ch = arr[..., c]
        if fill == 'median':
            valid = ch[~b]
            value = float(np.median(valid)) if valid.size else 0.0
        else:
            value = float(fill)
        ch[b] = value
        total += int(b.sum())
    return total
