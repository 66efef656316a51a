"""A synthetic bi-temporal landslide world, written in GVLM's on-disk layout.

Mapping landslides after an event is change mapping: a post-event image alone cannot tell a
fresh scar from ground that was already bare. This world is built so that it cannot: each site
has a pre-event and a post-event image of the same terrain (:mod:`lszoo.datasets.synthetic`'s
terrain, land cover and spectra) where

- **new scars** (the landslide mask) appear only in the post image;
- **confounders** are present in BOTH dates and look like scars in the post image: old scars
  (same shape, orientation, slopes and spectrum as new ones) and bare-soil patches on steep
  ground (``confounder`` mask);
- the dates differ where nothing happened too: a **seasonal colour shift** (vegetation and
  grass spectra, overall gain), independent sensor noise, and a **misregistration** of the pre
  image by a random sub-pixel shift (up to ``max_shift`` pixels).

:func:`write_change_world` writes the sites as GVLM distributes them (``<site>/im1.png`` pre,
``im2.png`` post, ``ref.png`` 0/255) and the tiles ``GVLMDataset`` reads
(``tiles_<tile>/<site>/{im1,im2,ref}/<site>_<y>_<x>.png``, as ``tools/dataset_converters/gvlm.py``
cuts them with ``--overlap 0``) plus, in the same tile layout, ``dem/`` (uint16 metres, the
optional ``DEM`` band) and ``confounder/`` (0/255, read by the change benchmark, not by the
dataset), and split files holding whole sites out (``splits/gvlm_{train,val,test}_seed42.txt``)::

    python -m lszoo.datasets.synthetic_change data/gvlm_change_synthetic
"""
import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence, Tuple, Union

import cv2
import numpy as np

from lszoo.errors import ConfigError
from .synthetic import _compose, _draw_path, _fractal, _hillshade, _slope_degrees, _smooth_noise
from .synthetic_writers import _u8, _write_png

#: Post-event (autumn) reflectance change of the vegetation classes: visible up, red edge and
#: NIR down (senescence), as per-band factors of the 12 Sentinel-2-like bands.
_SEASON = {'vegetation': (1.1, 1.2, 1.35, 1.6, 1.2, 0.85, 0.8, 0.78, 0.8, 1.0, 1.1, 1.2),
           'grass': (1.1, 1.2, 1.3, 1.5, 1.2, 0.9, 0.85, 0.85, 0.85, 1.0, 1.1, 1.15)}


@dataclass
class ChangePair:
    """One bi-temporal site; arrays ``H x W`` (``x 3``), RGB float32 in 0..1."""

    pre_rgb: np.ndarray  # pre-event, misregistered by `shift`
    post_rgb: np.ndarray
    dem: np.ndarray  # metres
    mask: np.ndarray  # uint8, 1 = new scar (the change)
    confounder: np.ndarray  # uint8, 1 = old scar or bare soil present in both dates
    shift: Tuple[float, float]  # (dy, dx) of the pre image, pixels


def _scars(rng: np.random.Generator, dem: np.ndarray, slope: np.ndarray, pixel_size: float,
           count: int) -> np.ndarray:
    """``count`` elongated scars on steep ground, long axis downslope (as the generator's)."""
    h, w = dem.shape
    gy, gx = np.gradient(dem, pixel_size)
    candidates = np.argwhere(slope >= np.percentile(slope, 75))
    mask = np.zeros((h, w), np.uint8)
    for _ in range(count):
        cy, cx = candidates[rng.integers(len(candidates))]
        angle = float(np.degrees(np.arctan2(gy[cy, cx], gx[cy, cx])))
        axes = (int(rng.uniform(7, 18)), max(2, int(rng.uniform(2.5, 6))))
        cv2.ellipse(mask, (int(cx), int(cy)), axes, angle, 0, 360, 1, thickness=-1)
    mask[slope < np.percentile(slope, 45)] = 0
    return mask


def _bare_patches(rng: np.random.Generator, slope: np.ndarray, count: int) -> np.ndarray:
    """Irregular bare-soil patches (cuts, fields, spoil) on steep ground."""
    h, w = slope.shape
    out = np.zeros((h, w), np.uint8)
    steep = np.argwhere(slope >= np.percentile(slope, 60))
    for _ in range(count):
        y, x = steep[rng.integers(len(steep))]
        axes = (int(rng.uniform(4, 10)), int(rng.uniform(3, 8)))
        cv2.ellipse(out, (int(x), int(y)), axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return out


def _shift(img: np.ndarray, dy: float, dx: float) -> np.ndarray:
    h, w = img.shape[:2]
    warp = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(img, warp, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)


def _rgb(s2: np.ndarray) -> np.ndarray:
    return np.clip(s2[..., [3, 2, 1]] * 3.0, 0, 1).astype(np.float32)


def generate_change_pair(seed: int, size: int = 256, pixel_size: float = 10.0,
                         max_shift: float = 1.5, season: float = 1.0) -> ChangePair:
    """One site from ``seed`` alone (see the module doc). ``season`` scales the seasonal
    colour shift (0: none); ``max_shift`` bounds the pre image's misregistration."""
    if size < 32:
        raise ConfigError(f'generate_change_pair: size {size} is too small (at least 32)')
    rng = np.random.default_rng(int(seed))
    hw = (size, size)
    area = size * size / 128.0**2  # scar counts grow with the area, sizes do not
    dem = (rng.uniform(300, 1200) + rng.uniform(250, 700) * _fractal(rng, hw, octaves=4)
           ).astype(np.float32)
    slope, shade = _slope_degrees(dem, pixel_size), _hillshade(dem, pixel_size)
    height = (dem - dem.min()) / max(float(np.ptp(dem)), 1e-6)
    veg = np.clip(0.85 - 0.5 * height + 0.35 * _smooth_noise(rng, hw, 6), 0, 1)
    river = _draw_path(rng, hw, dem, thickness=2)
    old = _scars(rng, dem, slope, pixel_size, int(rng.integers(2, 6) * area))
    bare = _bare_patches(rng, slope, int(rng.integers(2, 5) * area))
    new = _scars(rng, dem, slope, pixel_size, int(rng.integers(2, 6) * area))
    new[(old > 0) | (bare > 0) | river] = 0
    covers = {'vegetation': veg, 'grass': 1 - veg}
    for name, layer in (('scar', old), ('soil', bare), ('water', river)):
        layer = layer.astype(np.float32)
        covers = {k: v * (1 - layer) for k, v in covers.items()}
        covers[name] = np.maximum(covers.get(name, 0), layer)
    noise = rng.normal(0, 0.01, hw + (12,)).astype(np.float32)
    s2_pre = _compose(covers, shade, rng, noise)
    scar = new.astype(np.float32)
    post = {k: v * (1 - scar) for k, v in covers.items()}
    post['scar'] = np.maximum(post['scar'], scar)
    s2_post = _compose(post, shade, rng, rng.normal(0, 0.01, hw + (12,)).astype(np.float32))
    if season:
        factor = np.ones(hw + (12,), np.float32)
        for name, gains in _SEASON.items():
            g = 1 + season * (np.asarray(gains, np.float32) - 1)
            factor += post[name][..., None] * (g - 1)
        s2_post = np.clip(s2_post * factor * (1 + season * rng.uniform(-0.1, 0.1)), 0, 1)
    dy, dx = rng.uniform(-max_shift, max_shift, 2)
    pre_rgb = _shift(_rgb(s2_pre), float(dy), float(dx))
    confounder = (((old > 0) | (bare > 0)) & (new == 0)).astype(np.uint8)
    return ChangePair(pre_rgb=pre_rgb, post_rgb=_rgb(s2_post), dem=dem, mask=new,
                      confounder=confounder, shift=(float(dy), float(dx)))


def _split_sites(names: Sequence[str]) -> dict:
    """Whole sites per split: the last two test, the one before validation, the rest train."""
    if len(names) < 4:
        raise ConfigError(f'write_change_world: need at least 4 sites (2 test, 1 val, 1 train), '
                          f'got {len(names)}')
    return dict(train=list(names[:-3]), val=[names[-3]], test=list(names[-2:]))


def write_change_world(root: Union[str, Path], num_sites: int = 12, size: int = 384,
                       tile: int = 128, seed: int = 0, max_shift: float = 1.5,
                       season: float = 1.0) -> Path:
    """Write ``num_sites`` sites of ``size`` pixels and their ``tile``-pixel tiles under
    ``root`` (layout in the module doc); returns ``root``. Deterministic in its arguments."""
    if size % tile:
        raise ConfigError(f'write_change_world: size {size} must be a multiple of tile {tile}')
    root = Path(root)
    names = [f'Site{i:02d}' for i in range(num_sites)]
    tiles = root / f'tiles_{tile}'
    split = {}
    for i, site in enumerate(names):
        pair = generate_change_pair(seed * 100_003 + i, size, max_shift=max_shift,
                                    season=season)
        layers = dict(im1=_u8(pair.pre_rgb), im2=_u8(pair.post_rgb),
                      ref=pair.mask * np.uint8(255),
                      dem=np.clip(np.round(pair.dem), 0, 65535).astype(np.uint16),
                      confounder=pair.confounder * np.uint8(255))
        for name in ('im1', 'im2', 'ref'):
            _write_png(root / site / f'{name}.png', layers[name])
        split[site] = []
        for y in range(0, size, tile):
            for x in range(0, size, tile):
                stem = f'{site}_{y:05d}_{x:05d}.png'
                for name, arr in layers.items():
                    _write_png(tiles / site / name / stem, arr[y:y + tile, x:x + tile])
                split[site].append(f'{site}/{stem}')
    (root / 'splits').mkdir(parents=True, exist_ok=True)
    for part, sites in _split_sites(names).items():
        entries = [e for s in sites for e in split[s]]
        (root / 'splits' / f'gvlm_{part}_seed42.txt').write_text(''.join(
            f'{e}\n' for e in entries))
    return root


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('root', help='output folder')
    parser.add_argument('--sites', type=int, default=12)
    parser.add_argument('--size', type=int, default=384)
    parser.add_argument('--tile', type=int, default=128)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    write_change_world(args.root, args.sites, args.size, args.tile, args.seed)
    print(f'wrote {args.sites} sites to {args.root}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
