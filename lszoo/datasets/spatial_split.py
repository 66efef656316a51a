"""Spatial-block splits of georeferenced scenes, kept in a GeoJSON file of blocks.

Neighbouring windows of one scene are strongly correlated, so a random split of windows puts
near-copies of training samples into the test set (Roberts et al., "Cross-validation strategies
for data with temporal, spatial, hierarchical, or phylogenetic structure", Ecography 2017). Here
the map is cut into square blocks of ``block_size`` map units on a grid anchored at the
scenes' common lower-left corner; each block touching a scene goes, as a whole, to train, val or
test (seeded, stratified by whether the block holds inventory polygons so every split sees
landslides). The assignment is written as a GeoJSON of block polygons with a ``split`` property:
open it in QGIS to review it, edit it to move blocks, and it is read back (not redrawn) next time.
"""
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from lszoo.errors import ConfigError, DataError
from lszoo.utils.fileio import atomic_path

SPLITS = ('train', 'val', 'test')
Bounds = Tuple[float, float, float, float]  # left, bottom, right, top


@dataclass(frozen=True)
class Block:
    """One square block of the split grid, in map units of the scenes' CRS."""

    ix: int
    iy: int
    left: float
    bottom: float
    right: float
    top: float
    split: str = ''

    @property
    def bounds(self) -> Bounds:
        return self.left, self.bottom, self.right, self.top


def _overlap(a: Bounds, b: Bounds) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def block_grid(scene_bounds: Sequence[Bounds], block_size: float) -> List[Block]:
    """Blocks of ``block_size`` that overlap at least one scene (grid origin: the scenes'
    minimum left and bottom)."""
    if not block_size or block_size <= 0:
        raise ConfigError(f'block_size must be a positive length in map units, got {block_size}')
    x0 = min(b[0] for b in scene_bounds)
    y0 = min(b[1] for b in scene_bounds)
    x1 = max(b[2] for b in scene_bounds)
    y1 = max(b[3] for b in scene_bounds)
    nx = max(1, int(np.ceil((x1 - x0) / block_size - 1e-9)))
    ny = max(1, int(np.ceil((y1 - y0) / block_size - 1e-9)))
    blocks = []
    for iy in range(ny):
        for ix in range(nx):
            b = Block(ix, iy, x0 + ix * block_size, y0 + iy * block_size,
                      x0 + (ix + 1) * block_size, y0 + (iy + 1) * block_size)
            if any(_overlap(b.bounds, s) for s in scene_bounds):
                blocks.append(b)
    return blocks


def assign_blocks(blocks: Sequence[Block], positive: Sequence[bool],
                  fractions: Sequence[float], seed: int) -> List[Block]:
    """Give each block a split: shuffled with ``seed``, stratified by ``positive``.

    Within each stratum ``round(f * n)`` blocks go to val and test (at least one landslide block
    each when there are enough), the rest to train. A split with a non-zero fraction that got no
    block takes one from train (a positive one first).
    """
    fr = dict(zip(SPLITS, [float(f) for f in fractions]))
    if len(fractions) != 3 or any(f < 0 for f in fr.values()) or fr['train'] <= 0 or \
            abs(sum(fr.values()) - 1) > 1e-6:
        raise ConfigError(f'split_fractions must be three non-negative numbers (train, val, '
                          f'test) summing to 1 with train > 0, got {tuple(fractions)}')
    wanted = [s for s in SPLITS if fr[s] > 0]
    if len(blocks) < len(wanted):
        raise ConfigError(
            f'block_size is too large: the scenes cover only {len(blocks)} block(s), fewer than '
            f'the {len(wanted)} splits {wanted}; use a smaller block_size (a few window sizes '
            f"is typical) or split_mode='scenes'")
    rng = np.random.default_rng(int(seed))
    split_of: Dict[int, str] = {}
    for stratum in (True, False):
        idx = [i for i, p in enumerate(positive) if bool(p) == stratum]
        idx = [idx[k] for k in rng.permutation(len(idx))]
        n_val, n_test = (int(round(fr[s] * len(idx))) for s in ('val', 'test'))
        if stratum and len(idx) >= len(wanted):  # every split gets landslides when it can
            n_val, n_test = (max(n, 1) if fr[s] > 0 else 0
                             for n, s in ((n_val, 'val'), (n_test, 'test')))
        n_val, n_test = min(n_val, len(idx)), min(n_test, max(0, len(idx) - n_val - 1))
        for k, i in enumerate(idx):
            split_of[i] = 'val' if k < n_val else 'test' if k < n_val + n_test else 'train'
    for s in ('val', 'test'):
        if fr[s] > 0 and s not in split_of.values():
            train = [i for i in sorted(split_of) if split_of[i] == 'train']
            pos = [i for i in train if positive[i]]
            split_of[(pos or train)[-1]] = s
    return [Block(b.ix, b.iy, b.left, b.bottom, b.right, b.top, split_of[i])
            for i, b in enumerate(blocks)]


def write_blocks(path, blocks: Sequence[Block], crs_wkt: str, block_size: float,
                 seed: int) -> None:
    """Write blocks as GeoJSON polygons (properties ``split``, ``ix``, ``iy``, ``block_size``,
    ``seed``) in the scenes' CRS, atomically."""
    import shapely
    from pyogrio.raw import write  # raw API: geopandas is not required
    path = Path(path)
    geoms = shapely.to_wkb(shapely.box(*np.array([b.bounds for b in blocks]).T))
    fields = ['split', 'ix', 'iy', 'block_size', 'seed']
    data = [np.array([b.split for b in blocks], dtype=object),
            np.array([b.ix for b in blocks], np.int32), np.array([b.iy for b in blocks], np.int32),
            np.full(len(blocks), float(block_size)), np.full(len(blocks), int(seed), np.int32)]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            write(tmp, geometry=geoms, field_data=data, fields=fields, crs=crs_wkt,
                  geometry_type='Polygon', driver='GeoJSON', layer=path.stem, RFC7946='NO')
    except OSError as exc:
        raise DataError(f'{path}: cannot write the split file ({exc}); set split_file to a '
                        'writable path') from None


def read_blocks(path) -> Tuple[List[Block], Optional[float]]:
    """Blocks of a split file written by :func:`write_blocks` (possibly edited in QGIS)."""
    import shapely
    from pyogrio.raw import read
    try:
        meta, _, geoms, data = read(str(path))
    except Exception as exc:  # pyogrio raises several DataSourceError types
        raise DataError(f'{path}: unreadable split file: {exc}') from None
    cols = {name: col for name, col in zip(meta['fields'], data)}
    if 'split' not in cols:
        raise DataError(f'{path}: split file has no "split" property (fields {list(cols)})')
    bad = sorted({str(s) for s in cols['split']} - set(SPLITS))
    if bad:
        raise DataError(f'{path}: split values {bad} are not among {SPLITS}')
    blocks = []
    for k, g in enumerate(shapely.from_wkb(geoms)):
        left, bottom, right, top = g.bounds
        blocks.append(Block(int(cols.get('ix', [k] * len(geoms))[k]),
                            int(cols.get('iy', [0] * len(geoms))[k]),
                            left, bottom, right, top, str(cols['split'][k])))
    size = float(cols['block_size'][0]) if 'block_size' in cols and len(geoms) else None
    return blocks, size


def spatial_blocks(path, scene_bounds: Sequence[Bounds], crs_wkt: str, block_size: float,
                   fractions: Sequence[float], seed: int,
                   positive_fn=None) -> List[Block]:
    """The blocks of ``path`` if it exists, else a new seeded assignment written there.

    ``positive_fn(bounds) -> bool`` tells whether a block holds landslides (stratification).
    A file made with another ``block_size`` is an error (delete it or change ``split_file``).
    """
    path = Path(path)
    if path.is_file():
        blocks, size = read_blocks(path)
        if size is not None and abs(size - float(block_size)) > 1e-9:
            raise ConfigError(f'{path}: split file was made with block_size {size}, the config '
                              f'says {block_size}; delete the file or point split_file '
                              'elsewhere to draw a new split')
        uncovered = [s for s in scene_bounds if not any(_overlap(b.bounds, s) for b in blocks)]
        if uncovered:
            warnings.warn(f'{path}: {len(uncovered)} scene(s) lie outside every block of this '
                          'split file (added after it was written?); they are not used',
                          UserWarning, stacklevel=2)
        return blocks
    blocks = block_grid(scene_bounds, block_size)
    positive = [bool(positive_fn(b.bounds)) if positive_fn else False for b in blocks]
    blocks = assign_blocks(blocks, positive, fractions, seed)
    write_blocks(path, blocks, crs_wkt, block_size, seed)
    return blocks
