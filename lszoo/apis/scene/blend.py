"""Blends the quantised tile probabilities of a finished block into a mask (and probabilities).

Integer sums (see :mod:`lszoo.geo.grid`) make the result bit-identical whatever the block
size and the number of processes. Tiles stay cached until the last block they cover is done.
"""
from typing import Dict, Iterable, Optional, Tuple

import numpy as np

from lszoo.geo.grid import QUANT, Grid, Tile, acc_dtype, blend_weights


class BlockBlender:
    """Accumulates ``(tile, uint16 probability)`` pairs and blends one block at a time."""

    def __init__(self, grid: Grid, tile: int, overlap: int, threshold: float):
        self.grid = grid
        self.dtype = acc_dtype(tile, overlap)
        self.weights = blend_weights(tile, overlap).astype(self.dtype)
        # landslide where sum(w p_q) > thr_q sum(w): exact integers
        self.thr_q = int(round(threshold * QUANT))
        self.cache: Dict[Tuple[int, int], Tuple[Tile, np.ndarray]] = {}

    def add(self, preds: Iterable[Tuple[Tile, np.ndarray]]) -> None:
        for t, p in preds:
            self.cache[(t.y, t.x)] = (t, p)

    def blend(self, block: Tuple[int, int],
              with_prob: bool) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """Mask (uint8 0/1) and, if ``with_prob``, float32 probabilities of ``block``; tiles
        that end in this block leave the cache. Tiles of ``k x h x w`` values (the probability
        first, e.g. then its TTA spread) give ``k x H x W`` probabilities, each blended alike."""
        y0, y1, x0, x1 = self.grid.core(*block)
        lead = next((p.shape[:-2] for _, p in self.cache.values()), ())
        acc = np.zeros(lead + (y1 - y0, x1 - x0), self.dtype)
        wsum = np.zeros((y1 - y0, x1 - x0), self.dtype)
        for t, p in self.cache.values():
            ty0, ty1 = max(t.y, y0), min(t.y + t.h, y1)
            tx0, tx1 = max(t.x, x0), min(t.x + t.w, x1)
            if ty0 >= ty1 or tx0 >= tx1:
                continue
            ws = self.weights[ty0 - t.y:ty1 - t.y, tx0 - t.x:tx1 - t.x]
            acc[..., ty0 - y0:ty1 - y0, tx0 - x0:tx1 - x0] += ws * p[
                ..., ty0 - t.y:ty1 - t.y, tx0 - t.x:tx1 - t.x]
            wsum[ty0 - y0:ty1 - y0, tx0 - x0:tx1 - x0] += ws
        for key in [k for k, (t, _) in self.cache.items() if t.last_block == block]:
            del self.cache[key]
        # wsum * QUANT fits, see acc_dtype
        mask = ((acc[0] if lead else acc) > wsum * self.thr_q).view(np.uint8)
        prob = None
        if with_prob:
            prob = acc.astype(np.float32)
            prob /= wsum.astype(np.float32) * np.float32(QUANT)
        return mask, prob
