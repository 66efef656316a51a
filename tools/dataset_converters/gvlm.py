"""Cut the GVLM site scenes into tiles, streaming, for ``GVLMDataset``.

GVLM v1.0 (https://github.com/zxk688/GVLM) has 17 site folders, each with ``im1.png``
(pre-event), ``im2.png`` (post-event) and ``ref.png`` (0/255 landslide mask); scenes go up to
10808 x 7424 pixels. This tool reads each scene strip by strip (rasterio windows, one band of
tiles at a time, keeping only the overlapping rows between strips), so memory is bounded by
``size x scene width`` and never holds a whole scene::

    python tools/dataset_converters/gvlm.py data/gvlm --size 256 --overlap 0
    # -> data/gvlm/tiles_256/<site>/{im1,im2,ref}/<site>_<y>_<x>.png

Tiles start every ``size - overlap`` pixels; the last row/column of tiles is moved back to end
at the scene border, so every tile is full size (scenes smaller than ``size`` give one smaller
tile). GeoTIFF inputs give GeoTIFF tiles with their window's georeferencing.
"""
import argparse
import sys
import warnings
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

import numpy as np

from lszoo.errors import DataError, LSZooError

LAYERS = ('im1', 'im2', 'ref')
SUFFIXES = ('.png', '.tif', '.tiff')


def tile_starts(length: int, size: int, overlap: int) -> List[int]:
    """Start offsets along one axis: every ``size - overlap``, last one flush with the end."""
    if size <= 0 or not 0 <= overlap < size:
        raise DataError(f'tile size {size} / overlap {overlap}: need size > 0 and '
                        '0 <= overlap < size')
    if length <= size:
        return [0]
    stride = size - overlap
    starts = list(range(0, length - size + 1, stride))
    if starts[-1] != length - size:
        starts.append(length - size)
    return starts


def find_layer(site: Path, name: str) -> Path:
    for suf in SUFFIXES:
        p = site / f'{name}{suf}'
        if p.is_file():
            return p
    raise DataError(f'{site}: no {name}.png / {name}.tif (a GVLM site holds im1, im2, ref)')


class _StripReader:
    """Reads rows [y0, y1) of a raster in increasing order, keeping already-read rows."""

    def __init__(self, path: Path):
        import rasterio
        from rasterio.errors import NotGeoreferencedWarning
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', NotGeoreferencedWarning)
            self.src = rasterio.open(path)
        self.path = path
        self.buf: Optional[np.ndarray] = None  # bands x rows x width
        self.buf_y0 = 0

    def rows(self, y0: int, y1: int) -> np.ndarray:
        from rasterio.windows import Window
        if self.buf is not None and y0 >= self.buf_y0:
            keep = self.buf[:, y0 - self.buf_y0:]
            have = self.buf_y0 + self.buf.shape[1]
            if y0 > have:  # a gap (stride > size): nothing to keep
                keep, have = None, y0
        else:
            keep, have = None, y0
        if y1 > have:
            try:
                new = self.src.read(window=Window(0, have, self.src.width, y1 - have))
            except Exception as exc:  # rasterio raises several error types for bad files
                raise DataError(f'{self.path}: cannot read rows {have}..{y1} '
                                f'(truncated or corrupt file): {exc}') from None
            keep = new if keep is None or keep.shape[1] == 0 else np.concatenate([keep, new], 1)
        self.buf = np.ascontiguousarray(keep[:, :y1 - y0])
        self.buf_y0 = y0
        return self.buf

    def close(self):
        self.src.close()


def _write(path: Path, tile: np.ndarray, like, window) -> None:
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning
    profile = dict(width=tile.shape[2], height=tile.shape[1], count=tile.shape[0],
                   dtype=tile.dtype)
    if path.suffix == '.png':
        profile['driver'] = 'PNG'
    else:
        profile.update(driver='GTiff', compress='deflate')
        if like.crs is not None:
            profile.update(crs=like.crs, transform=like.window_transform(window))
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', NotGeoreferencedWarning)
        with rasterio.open(path, 'w', **profile) as dst:
            dst.write(tile)


def cut_site(site: Path, out: Path, size: int = 256, overlap: int = 0,
             layers: Sequence[str] = LAYERS) -> int:
    """Cut one site folder into ``out/<site>/<layer>/<site>_<y>_<x>.<ext>``; returns #tiles."""
    from rasterio.windows import Window
    paths = {name: find_layer(site, name) for name in layers}
    readers: Dict[str, _StripReader] = {}
    try:
        for name, p in paths.items():
            readers[name] = _StripReader(p)
        first = readers[layers[0]].src
        h, w = first.height, first.width
        for name, r in readers.items():
            if (r.src.height, r.src.width) != (h, w):
                raise DataError(f'{r.path}: size {(r.src.height, r.src.width)} differs from '
                                f'{readers[layers[0]].path} size {(h, w)}')
        ys, xs = tile_starts(h, size, overlap), tile_starts(w, size, overlap)
        n = 0
        for y in ys:
            th = min(size, h)
            strips = {name: r.rows(y, y + th) for name, r in readers.items()}
            for x in xs:
                tw = min(size, w)
                win = Window(x, y, tw, th)
                for name, strip in strips.items():
                    tile = strip[:, :, x:x + tw]
                    if name == 'ref' and tile.shape[0] > 1:
                        tile = tile[:1]  # masks are single band
                    ext = '.png' if paths[name].suffix == '.png' else '.tif'
                    dst = out / site.name / name / f'{site.name}_{y:05d}_{x:05d}{ext}'
                    _write(dst, np.ascontiguousarray(tile), readers[name].src, win)
                n += 1
        return n
    finally:
        for r in readers.values():
            r.close()


def find_sites(src: Path) -> Iterator[Path]:
    for d in sorted(p for p in src.iterdir() if p.is_dir()):
        if any((d / f'im2{s}').is_file() for s in SUFFIXES):
            yield d


def convert(src, out=None, size: int = 256, overlap: int = 0,
            sites: Optional[Sequence[str]] = None) -> Dict[str, int]:
    """Cut every site under ``src`` (default output ``src/tiles_<size>``); site -> #tiles."""
    src = Path(src)
    if not src.is_dir():
        raise DataError(f'{src}: GVLM folder does not exist (get it from '
                        'https://github.com/zxk688/GVLM)')
    out = Path(out) if out else src / f'tiles_{size}'
    found = [d for d in find_sites(src) if sites is None or d.name in sites]
    if not found:
        raise DataError(f'{src}: no GVLM site folders (<site>/im2.png) found')
    return {d.name: cut_site(d, out, size, overlap) for d in found}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('src', help='GVLM root holding the site folders')
    ap.add_argument('--out', help='output folder (default <src>/tiles_<size>)')
    ap.add_argument('--size', type=int, default=256, help='tile size in pixels')
    ap.add_argument('--overlap', type=int, default=0, help='overlap between tiles in pixels')
    ap.add_argument('--sites', nargs='*', help='only these site folders')
    args = ap.parse_args(argv)
    try:
        counts = convert(args.src, args.out, args.size, args.overlap, args.sites)
    except LSZooError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    for site, n in counts.items():
        print(f'{site}: {n} tiles')
    print(f'total: {sum(counts.values())} tiles')
    return 0


if __name__ == '__main__':
    sys.exit(main())
