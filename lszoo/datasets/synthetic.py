"""Deterministic synthetic landslide scenes, and an in-memory dataset built on them.

Nothing can be downloaded on a fresh install, so lszoo ships its own landslide world for demos and
tests. A scene is generated from an integer seed alone (same seed, same arrays, on any machine):

- **terrain**: a fractal DEM (sum of smoothly upsampled noise octaves) and its slope;
- **land cover**: vegetation whose density falls with altitude, bare-soil fields on gentle ground,
  a river in the lowest valley, a road, optional clouds;
- **optical**: 12 Sentinel-2-like bands (B1..B12 without B8A, reflectance-like 0..1) mixed from
  per-class spectra, shaded by the terrain; RGB is B4, B3, B2 brightened;
- **landslides**: elongated bare scars aligned with the downslope direction, seeded only on steep
  ground. Fresh scars look like the bare-soil fields, so the optical stream alone is ambiguous and
  the slope carries signal too: both streams of a dual-stream model are useful.

``pre_rgb`` is the same scene before the landslides (the GVLM pre-event image).
:func:`lszoo.datasets.synthetic_writers.write_synthetic_dataset` writes scenes in each benchmark's
on-disk format.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmengine.dataset import BaseDataset
from mmseg.registry import DATASETS

from ..errors import ConfigError

S2_BANDS = ('B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B9', 'B10', 'B11', 'B12')

# Reflectance of each cover class in the 12 bands above (B1 aerosol ... B12 SWIR-2).
_SPECTRA = {
    'vegetation': (0.03, 0.04, 0.07, 0.04, 0.10, 0.28, 0.34, 0.38, 0.36, 0.01, 0.19, 0.09),
    'grass': (0.05, 0.06, 0.10, 0.08, 0.14, 0.24, 0.28, 0.30, 0.29, 0.01, 0.24, 0.14),
    'soil': (0.09, 0.11, 0.15, 0.20, 0.23, 0.25, 0.27, 0.28, 0.28, 0.01, 0.33, 0.27),
    'scar': (0.12, 0.15, 0.20, 0.25, 0.27, 0.28, 0.29, 0.30, 0.30, 0.01, 0.36, 0.31),
    'water': (0.06, 0.07, 0.06, 0.04, 0.03, 0.02, 0.02, 0.01, 0.01, 0.00, 0.01, 0.01),
    'road': (0.14, 0.16, 0.18, 0.19, 0.20, 0.21, 0.22, 0.22, 0.22, 0.01, 0.24, 0.22),
    'cloud': (0.55, 0.58, 0.60, 0.62, 0.63, 0.64, 0.64, 0.65, 0.60, 0.30, 0.55, 0.45),
}


@dataclass
class SyntheticScene:
    """One generated scene; all arrays are ``H x W`` (``x bands``), float32 unless noted."""

    rgb: np.ndarray  # H x W x 3, 0..1
    s2: np.ndarray  # H x W x 12, reflectance-like 0..1
    dem: np.ndarray  # H x W, metres
    slope: np.ndarray  # H x W, degrees
    pre_rgb: np.ndarray  # H x W x 3, the scene before the landslides
    mask: np.ndarray  # H x W uint8, 1 = landslide
    cloud: np.ndarray  # H x W bool
    pixel_size: float  # metres


def _size_hw(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    if isinstance(size, int):
        return size, size
    h, w = size
    return int(h), int(w)


def _smooth_noise(rng: np.random.Generator, hw: Tuple[int, int], cells: int) -> np.ndarray:
    """Noise in [-1, 1] with about ``cells`` features across the shorter side."""
    h, w = hw
    ch = max(2, int(round(cells * h / min(h, w))) + 1)
    cw = max(2, int(round(cells * w / min(h, w))) + 1)
    grid = rng.uniform(-1, 1, (ch, cw)).astype(np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)


def _fractal(rng: np.random.Generator, hw: Tuple[int, int], octaves: int = 5) -> np.ndarray:
    out = np.zeros(hw, np.float32)
    for o in range(octaves):
        out += _smooth_noise(rng, hw, 2 * 2**o) * 0.5**o
    out -= out.min()
    return out / max(float(out.max()), 1e-6)


def _slope_degrees(dem: np.ndarray, pixel_size: float) -> np.ndarray:
    gy, gx = np.gradient(dem, pixel_size)
    return np.degrees(np.arctan(np.hypot(gx, gy))).astype(np.float32)


def _hillshade(dem: np.ndarray, pixel_size: float) -> np.ndarray:
    gy, gx = np.gradient(dem, pixel_size)
    # Sun from the north-west at 45 degrees elevation.
    shade = (np.cos(np.pi / 4) - np.sin(np.pi / 4) * (gx * -0.707 + gy * -0.707)) / np.sqrt(
        1 + gx**2 + gy**2)
    return np.clip(shade, 0, 1).astype(np.float32)


def _draw_path(rng: np.random.Generator, hw: Tuple[int, int], cost: np.ndarray,
               thickness: int) -> np.ndarray:
    """A meandering line across the scene that prefers low ``cost``; returns a bool mask."""
    h, w = hw
    xs = np.linspace(0, w - 1, 12)
    ys = []
    y = rng.uniform(0.2, 0.8) * h
    for x in xs:
        col = cost[:, int(x)]
        # Drift towards the cheapest row within reach, with some randomness.
        lo, hi = int(max(0, y - h * 0.15)), int(min(h, y + h * 0.15 + 1))
        target = lo + int(np.argmin(col[lo:hi]))
        y = 0.5 * y + 0.5 * target + rng.normal(0, h * 0.02)
        ys.append(np.clip(y, 0, h - 1))
    pts = np.stack([xs, ys], 1).round().astype(np.int32)
    canvas = np.zeros(hw, np.uint8)
    cv2.polylines(canvas, [pts], False, 1, thickness=thickness)
    return canvas.astype(bool)


def _landslide_mask(rng: np.random.Generator, dem: np.ndarray, slope: np.ndarray,
                    pixel_size: float, scale_factor: float = 1.0) -> np.ndarray:
    h, w = dem.shape
    gy, gx = np.gradient(dem, pixel_size)
    steep = slope >= np.percentile(slope, 75)
    mask = np.zeros((h, w), np.uint8)
    candidates = np.argwhere(steep)
    if len(candidates) == 0:
        return mask
    scale = min(h, w) / 128.0 * scale_factor
    for _ in range(int(rng.integers(2, 6))):
        cy, cx = candidates[rng.integers(len(candidates))]
        # Long axis along the downslope direction (the gradient).
        angle = float(np.degrees(np.arctan2(gy[cy, cx], gx[cy, cx])))
        length = rng.uniform(7, 18) * scale
        width = rng.uniform(2.5, 6) * scale
        cv2.ellipse(mask, (int(cx), int(cy)), (max(1, int(length)), max(1, int(width))), angle, 0,
                    360, 1, thickness=-1)
    # Scars stay on steep ground: trim the parts that ran onto gentle slopes.
    mask[slope < np.percentile(slope, 45)] = 0
    return mask


def _compose(covers: Dict[str, np.ndarray], shade: np.ndarray, rng: np.random.Generator,
             noise: np.ndarray) -> np.ndarray:
    """Mix per-class spectra with per-pixel weights into an H x W x 12 image."""
    h, w = shade.shape
    img = np.zeros((h, w, 12), np.float32)
    for name, weight in covers.items():
        img += weight[..., None] * np.asarray(_SPECTRA[name], np.float32)
    img *= (0.55 + 0.45 * shade)[..., None]
    img += noise
    return np.clip(img, 0, 1)


def _quarries(rng: np.random.Generator, slope: np.ndarray) -> np.ndarray:
    """Axis-aligned bare cuts on steep ground: look like scars in every band, differ in shape."""
    h, w = slope.shape
    out = np.zeros((h, w), np.float32)
    steep = np.argwhere(slope >= np.percentile(slope, 70))
    scale = min(h, w) / 128.0
    for _ in range(int(rng.integers(1, 4))):
        y, x = steep[rng.integers(len(steep))]
        qh, qw = (rng.uniform(4, 9, 2) * scale).astype(int) + 1
        out[y:y + qh, x:x + qw] = 1.0
    return out


def generate_scene(seed: int, size: Union[int, Sequence[int]] = 128, landslides: bool = True,
                   clouds: bool = False, pixel_size: float = 10.0,
                   hard: bool = False) -> SyntheticScene:
    """Generate one scene, fully determined by ``seed`` and the arguments.

    Args:
        seed: any non-negative integer.
        size: ``H`` or ``(H, W)`` in pixels.
        landslides: draw landslide scars (False gives an all-background scene).
        clouds: add semi-transparent clouds over the optical bands (the mask is unchanged:
            it describes the ground).
        pixel_size: metres per pixel, used for slope.
        hard: a harder world for comparing models: smaller scars, bare quarries on steep ground
            with the scars' spectrum (only shape and orientation tell them apart), and more
            sensor noise. ``False`` keeps the default world unchanged.
    """
    hw = _size_hw(size)
    if min(hw) < 8:
        raise ConfigError(f'synthetic scene size {hw} is too small (at least 8 x 8)')
    rng = np.random.default_rng(int(seed))
    relief = rng.uniform(250, 700) * min(hw) / 128.0
    dem = (rng.uniform(300, 1200) + relief * _fractal(rng, hw, octaves=4)).astype(np.float32)
    slope = _slope_degrees(dem, pixel_size)
    shade = _hillshade(dem, pixel_size)

    height = (dem - dem.min()) / max(float(np.ptp(dem)), 1e-6)
    veg = np.clip(0.85 - 0.5 * height + 0.35 * _smooth_noise(rng, hw, 6), 0, 1)
    gentle = slope < np.percentile(slope, 35)
    fields = np.zeros(hw, np.float32)
    scale = min(hw) / 128.0
    for _ in range(int(rng.integers(4, 10))):
        y, x = rng.integers(0, hw[0]), rng.integers(0, hw[1])
        fh, fw = (rng.uniform(6, 18, 2) * scale).astype(int) + 1
        fields[y:y + fh, x:x + fw] = 1.0
    fields *= gentle
    river = _draw_path(rng, hw, dem, thickness=max(1, int(2 * scale)))
    road = _draw_path(rng, hw, slope, thickness=max(1, int(scale)))

    covers = {'vegetation': veg, 'grass': 1 - veg}
    layers = [('soil', fields), ('road', road.astype(np.float32)),
              ('water', river.astype(np.float32))]
    if hard:
        layers.insert(1, ('scar', _quarries(rng, slope)))
    for name, layer in layers:
        for other in covers:
            covers[other] = covers[other] * (1 - layer)
        covers[name] = layer
    noise = rng.normal(0, 0.02 if hard else 0.008, hw + (12,)).astype(np.float32)
    s2_pre = _compose(covers, shade, rng, noise)

    mask = np.zeros(hw, np.uint8)
    if landslides:
        mask = _landslide_mask(rng, dem, slope, pixel_size, 0.75 if hard else 1.0)
        mask[river] = 0
    scar = mask.astype(np.float32)
    covers_post = {name: layer * (1 - scar) for name, layer in covers.items()}
    covers_post['scar'] = np.maximum(covers_post.get('scar', 0), scar)
    s2 = _compose(covers_post, shade, rng, noise)

    cloud = np.zeros(hw, bool)
    if clouds:
        density = np.clip((_fractal(rng, hw, 4) - 0.55) * 3, 0, 0.85).astype(np.float32)
        cloud = density > 0.05
        white = np.asarray(_SPECTRA['cloud'], np.float32)
        s2 = s2 * (1 - density[..., None]) + white * density[..., None]
        s2_pre = s2_pre * (1 - density[..., None]) + white * density[..., None]

    def to_rgb(bands: np.ndarray) -> np.ndarray:
        return np.clip(bands[..., [3, 2, 1]] * 3.0, 0, 1).astype(np.float32)

    return SyntheticScene(rgb=to_rgb(s2), s2=s2.astype(np.float32), dem=dem, slope=slope,
                          pre_rgb=to_rgb(s2_pre), mask=mask, cloud=cloud,
                          pixel_size=float(pixel_size))


# Bands the in-memory dataset can serve, with the stream each belongs to.
SYNTHETIC_BANDS = {
    **{b: 'optical' for b in ('R', 'G', 'B') + S2_BANDS + ('NDVI', )},
    'DEM': 'topo',
    'slope': 'topo',
    **{b: 'pre' for b in ('pre_R', 'pre_G', 'pre_B')},
}


def scene_bands(scene: SyntheticScene, bands: Sequence[str]) -> np.ndarray:
    """Stack the named bands of a scene into ``H x W x C`` float32.

    Scales: optical bands 0..1, NDVI -1..1, ``DEM`` in km, ``slope`` in degrees / 90.
    """
    out: List[np.ndarray] = []
    for band in bands:
        if band in ('R', 'G', 'B'):
            out.append(scene.rgb[..., 'RGB'.index(band)])
        elif band in ('pre_R', 'pre_G', 'pre_B'):
            out.append(scene.pre_rgb[..., 'RGB'.index(band[-1])])
        elif band in S2_BANDS:
            out.append(scene.s2[..., S2_BANDS.index(band)])
        elif band == 'NDVI':
            nir, red = scene.s2[..., 7], scene.s2[..., 3]
            out.append((nir - red) / np.maximum(nir + red, 1e-6))
        elif band == 'DEM':
            out.append(scene.dem / 1000.0)
        elif band == 'slope':
            out.append(scene.slope / 90.0)
        else:
            raise ConfigError(f'unknown synthetic band {band!r}; choose from '
                              f'{sorted(SYNTHETIC_BANDS)}')
    return np.stack(out, -1).astype(np.float32)


def stream_layout_for(bands: Sequence[str]) -> Dict[str, List[int]]:
    """Group channel indices by stream (``optical``, ``topo``, ``pre``), in first-seen order."""
    layout: Dict[str, List[int]] = {}
    for i, band in enumerate(bands):
        if band not in SYNTHETIC_BANDS:
            raise ConfigError(f'unknown synthetic band {band!r}; choose from '
                              f'{sorted(SYNTHETIC_BANDS)}')
        layout.setdefault(SYNTHETIC_BANDS[band], []).append(i)
    return layout


@DATASETS.register_module()
class SyntheticLandslideDataset(BaseDataset):
    """In-memory synthetic landslide dataset: no files, no download, deterministic.

    Sample ``i`` is :func:`generate_scene` with seed ``seed * 100_003 + i``, so the train, val and
    test datasets of a config differ only by ``seed``. Samples follow lszoo's sample contract
    (docs/architecture.md): ``img`` float32 ``H x W x C`` with the chosen ``bands``,
    ``gt_seg_map`` uint8 0/1, and ``band_names`` / ``stream_layout`` in the metainfo.

    Args:
        num_samples: number of scenes.
        size: scene size in pixels.
        seed: dataset seed.
        bands: band names from :data:`SYNTHETIC_BANDS`.
        landslide_fraction: share of scenes that contain landslides (the rest are empty, as
            the non-landslide half of Bijie).
        clouds_fraction: share of scenes with clouds.
        hard: generate the harder world (see :func:`generate_scene`).
        pipeline: the mmengine transform list.
    """

    METAINFO = dict(classes=('background', 'landslide'), palette=[[0, 0, 0], [255, 0, 0]])

    def __init__(self, num_samples: int = 64, size: int = 128, seed: int = 0,
                 bands: Sequence[str] = ('R', 'G', 'B', 'DEM', 'slope'),
                 landslide_fraction: float = 1.0, clouds_fraction: float = 0.0,
                 hard: bool = False, pipeline: Optional[list] = None, **kwargs) -> None:
        if num_samples < 1:
            raise ConfigError(f'SyntheticLandslideDataset: num_samples must be >= 1, '
                              f'got {num_samples}')
        self.num_samples = int(num_samples)
        self.size = size
        self.seed = int(seed)
        self.bands = tuple(bands)
        self.stream_layout = stream_layout_for(self.bands)
        self.landslide_fraction = float(landslide_fraction)
        self.clouds_fraction = float(clouds_fraction)
        self.hard = bool(hard)
        self._cache: Dict[int, dict] = {}
        kwargs.setdefault('serialize_data', False)
        super().__init__(pipeline=pipeline or [], **kwargs)

    def load_data_list(self) -> List[dict]:
        rng = np.random.default_rng(self.seed)
        flags = rng.random((self.num_samples, 2))
        return [
            dict(scene_seed=self.seed * 100_003 + i,
                 landslides=bool(flags[i, 0] < self.landslide_fraction),
                 clouds=bool(flags[i, 1] < self.clouds_fraction), sample_idx=i)
            for i in range(self.num_samples)
        ]

    def _arrays(self, info: dict) -> dict:
        key = info['scene_seed']
        if key not in self._cache:
            scene = generate_scene(key, self.size, landslides=info['landslides'],
                                   clouds=info['clouds'], hard=self.hard)
            self._cache[key] = dict(img=scene_bands(scene, self.bands), gt_seg_map=scene.mask)
        return self._cache[key]

    def prepare_data(self, idx: int):
        info = dict(self.get_data_info(idx))
        arrays = self._arrays(info)
        img = arrays['img'].copy()
        info.update(
            img=img, gt_seg_map=arrays['gt_seg_map'].copy(), seg_fields=['gt_seg_map'],
            img_path=f'synthetic://{info["scene_seed"]}', seg_map_path=None,
            ori_shape=img.shape[:2], img_shape=img.shape[:2], reduce_zero_label=False,
            band_names=list(self.bands), stream_layout=self.stream_layout)
        return self.pipeline(info)
