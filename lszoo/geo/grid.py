"""The tile grid of a scene, its blend weights and its grouping into blocks (numpy only).

Tiles of ``tile`` x ``tile`` pixels overlap by ``overlap`` (stride ``tile - overlap``; the last
row/column is shifted back to end on the scene edge). Each tile's probabilities are weighted by
a ramp that falls towards the tile edges over ``overlap`` pixels (a pyramid window, Huang et al.,
"Tiling and stitching segmentation output for remote sensing", IEEE GRSL 2018). Probabilities
are quantised to 16 bits and weights are integers, so blended sums do not depend on the order in
which tiles arrive. Tiles are grouped by the ``window`` x ``window`` block their origin lies in.
"""
from dataclasses import dataclass
from typing import Dict, List, Tuple

import numpy as np

QUANT = 65535  # probabilities are stored as round(p * QUANT) in uint16
WEIGHT_MAX = 32  # per axis; 2-D weights are products, at most 1024 = 2**10


def tile_origins(size: int, tile: int, stride: int) -> List[int]:
    """Tile start offsets covering ``[0, size)``; the last tile ends on the edge."""
    if size <= tile:
        return [0]
    return list(range(0, size - tile, stride)) + [size - tile]


def blend_weights(tile: int, overlap: int) -> np.ndarray:
    """Integer ``tile x tile`` weights: the product of two 1-D ramps, each 1 at the tile edge
    rising linearly to ``WEIGHT_MAX`` over ``overlap`` pixels (a pyramid window)."""
    d = np.minimum(np.arange(tile), np.arange(tile)[::-1]).astype(np.float64)
    ramp = np.clip((d + 0.5) / max(overlap, 1), 0.0, 1.0)
    w1 = 1 + np.round((WEIGHT_MAX - 1) * ramp).astype(np.int64)
    return w1[:, None] * w1[None, :]


def acc_dtype(tile: int, overlap: int):
    """``int32`` when the weighted sum of all tiles covering a pixel cannot overflow it."""
    per_axis = -(-tile // (tile - overlap)) + 1  # clamped last tiles add one per axis
    return np.int32 if per_axis ** 2 * WEIGHT_MAX ** 2 * QUANT < 2 ** 31 else np.int64


@dataclass
class Tile:
    """One tile: origin, extent inside the scene and the last block it overlaps."""

    y: int
    x: int
    h: int
    w: int
    last_block: Tuple[int, int]


class Grid:
    """The fixed tile grid of a ``height`` x ``width`` scene, grouped into blocks."""

    def __init__(self, height: int, width: int, tile: int, overlap: int, window: int):
        self.height, self.width = height, width
        self.tile, self.window = tile, window
        stride = tile - overlap
        ys, xs = tile_origins(height, tile, stride), tile_origins(width, tile, stride)
        self.nby = -(-height // window)
        self.nbx = -(-width // window)
        self.blocks: Dict[Tuple[int, int], List[Tile]] = {}
        for y in ys:
            for x in xs:
                h, w = min(tile, height - y), min(tile, width - x)
                last = ((y + h - 1) // window, (x + w - 1) // window)
                self.blocks.setdefault((y // window, x // window), []).append(
                    Tile(y, x, h, w, last))
        self.n_tiles = len(ys) * len(xs)

    def block_ids(self):
        """Blocks in raster order."""
        return [(bi, bj) for bi in range(self.nby) for bj in range(self.nbx)]

    def core(self, bi: int, bj: int) -> Tuple[int, int, int, int]:
        """``y0, y1, x0, x1`` of block ``(bi, bj)`` inside the scene."""
        w = self.window
        return bi * w, min((bi + 1) * w, self.height), bj * w, min((bj + 1) * w, self.width)

    def batches(self, block: Tuple[int, int], batch: int, rank: int = 0,
                world: int = 1) -> List[List[Tile]]:
        """This rank's contiguous share of the block's batches of ``batch`` tiles (batches are
        formed independently of the world size, so results do not depend on it)."""
        tiles = self.blocks.get(block, [])
        batches = [tiles[i:i + batch] for i in range(0, len(tiles), batch)]
        share = np.array_split(np.arange(len(batches)), world)[rank]
        return [batches[k] for k in share]
