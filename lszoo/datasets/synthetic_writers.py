"""Write tiny synthetic copies of the four benchmarks in their exact public on-disk layouts.

Tests, demos and config checks need the real folder structures and file formats (h5 with the
right keys and dtypes, PNG/TIFF with the right band counts and mask encodings) without the real
data, which cannot be downloaded here. Scenes come from
:func:`lszoo.datasets.synthetic.generate_scene`, so a copy is fully determined by its seed.
"""
import warnings
from pathlib import Path
from typing import Union

import cv2
import numpy as np

from lszoo.errors import ConfigError
from lszoo.utils.fileio import atomic_path, atomic_write_text
from .synthetic import generate_scene

WRITERS = ('l4s', 'l4s_mirror', 'bijie', 'cas', 'gvlm', 'gvlm_change', 'inventory', 'sen12')

# Per-band factors that bring the generator's reflectance-like values (0..1) to the value
# range of the distributed L4S files (about 0-7; cirrus B10 much larger).
_L4S_S2_SCALE = np.array([10, 9, 8, 7, 6, 5, 4, 4, 5, 300, 5, 6], np.float64)


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 255), 0, 255).astype(np.uint8)


def _write_raster(path: Path, arr: np.ndarray, driver: str) -> None:
    """Write an HxW or HxWxC array as a PNG or GeoTIFF (no georeferencing) with rasterio, which
    the readers use too."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning
    path.parent.mkdir(parents=True, exist_ok=True)
    a = arr if arr.ndim == 3 else arr[..., None]
    with warnings.catch_warnings():  # these formats carry no georeferencing
        warnings.simplefilter('ignore', NotGeoreferencedWarning)
        with atomic_path(path, path.suffix) as tmp, rasterio.open(
                tmp, 'w', driver=driver, width=a.shape[1], height=a.shape[0],
                count=a.shape[2], dtype=a.dtype) as dst:
            dst.write(np.moveaxis(a, -1, 0))


def _write_png(path: Path, arr: np.ndarray) -> None:
    _write_raster(path, arr, 'PNG')


def _write_tif(path: Path, arr: np.ndarray) -> None:
    _write_raster(path, arr, 'GTiff')


def l4s_image(scene) -> np.ndarray:
    """(H, W, 14) float64 in the L4S band order and value range."""
    s2 = scene.s2.astype(np.float64) * _L4S_S2_SCALE
    slope = scene.slope.astype(np.float64) / 30.0  # L4S slope band: about 0-2.4
    dem = scene.dem.astype(np.float64) / 1000.0  # L4S DEM band: about 0-4 (km)
    return np.concatenate([s2, slope[..., None], dem[..., None]], axis=2)


def _write_l4s(root: Path, n: int, size: int, seed: int, mirror: bool) -> None:
    import h5py
    splits = {'train': 'TrainData', 'val': 'ValidData', 'test': 'TestData'}
    mirror_names = {'train': 'train', 'val': 'validation', 'test': 'test'}
    counts = {'train': n, 'val': max(2, n // 4), 'test': max(2, n // 4)}
    k = 0
    for split, folder in splits.items():
        if mirror:
            img_dir = root / 'images' / mirror_names[split]
            mask_dir = root / 'annotations' / mirror_names[split]
        else:
            img_dir, mask_dir = root / folder / 'img', root / folder / 'mask'
        img_dir.mkdir(parents=True, exist_ok=True)
        mask_dir.mkdir(parents=True, exist_ok=True)
        for i in range(1, counts[split] + 1):
            scene = generate_scene(seed * 100003 + k, size=size)
            k += 1
            with h5py.File(img_dir / f'image_{i}.h5', 'w') as f:
                f.create_dataset('img', data=l4s_image(scene))
            with h5py.File(mask_dir / f'mask_{i}.h5', 'w') as f:
                f.create_dataset('mask', data=scene.mask.astype(np.uint8))


def _polygons(mask: np.ndarray) -> str:
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    return '\n'.join(' '.join(f'{int(x)},{int(y)}' for x, y in c[:, 0]) for c in contours)


def _write_bijie(root: Path, n: int, size: int, seed: int) -> None:
    # Bijie images vary in size: use three sizes around `size`.
    k = 0
    for cls, slides in (('landslide', True), ('non-landslide', False)):
        for i in range(n):
            h, w = size + 8 * (i % 3), size + 4 * (i % 2)
            scene = generate_scene(seed * 100003 + k, size=(h, w), landslides=slides)
            k += 1
            stem = f'{"ls" if slides else "nls"}{i:04d}'
            _write_png(root / cls / 'image' / f'{stem}.png', _u8(scene.rgb))
            dem = np.clip(np.round(scene.dem), 0, 65535).astype(np.uint16)
            _write_png(root / cls / 'dem' / f'{stem}.png', dem)
            if slides:
                _write_png(root / cls / 'mask' / f'{stem}.png',
                           (scene.mask > 0).astype(np.uint8) * 255)
                poly = root / cls / 'polygon_coordinate' / f'{stem}.txt'
                poly.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_text(poly, _polygons(scene.mask))


# Two sub-datasets named like the Zenodo archives; the second nested one level deeper
# (<zip name>/<zip name>/img) to cover both ways an archive may unpack.
_CAS_SUBS = (('Hokkaido Iburi-Tobu', 'Hokkaido{:04d}.tif', False),
             ('Moxitaidi (UAV-0.6m)', 'Moxitaidi_Satellite{:03d}.tiff', True))


def _label_colour(mask: np.ndarray) -> np.ndarray:
    out = np.zeros(mask.shape + (3,), np.uint8)
    out[mask > 0] = (255, 0, 0)
    return out


def _write_cas(root: Path, n: int, size: int, seed: int) -> None:
    k = 0
    for sub, pattern, nested in _CAS_SUBS:
        base = root / sub / sub if nested else root / sub
        for i in range(1, n + 1):
            scene = generate_scene(seed * 100003 + k, size=size)
            k += 1
            name = pattern.format(i)
            _write_tif(base / 'img' / name, _u8(scene.rgb))
            _write_tif(base / 'mask' / name, scene.mask.astype(np.uint8))
            _write_tif(base / 'label' / name, _label_colour(scene.mask))


_GVLM_SITES = ('Italy', 'Japan_Hokkaido', 'Taiwan')


def _write_gvlm(root: Path, n: int, size: int, seed: int) -> None:
    # Sites as distributed: im1 (pre-event), im2 (post-event), ref (0/255). `n` scenes in all,
    # each about 2 x size square (non-square) so the tile converter has work to do.
    for i in range(n):
        site = _GVLM_SITES[i] if i < len(_GVLM_SITES) else f'Site{i:02d}'
        h, w = 2 * size + 16 * (i % 2), 2 * size + 8
        scene = generate_scene(seed * 100003 + i, size=(h, w))
        _write_png(root / site / 'im1.png', _u8(scene.pre_rgb))
        _write_png(root / site / 'im2.png', _u8(scene.rgb))
        _write_png(root / site / 'ref.png', (scene.mask > 0).astype(np.uint8) * 255)


def write_synthetic_dataset(name: str, root: Union[str, Path], num_images: int = 8,
                            size: int = 128, seed: int = 0, **options) -> Path:
    """Write a synthetic copy of dataset ``name`` under ``root`` in its public layout.

    ``name`` is one of ``'l4s'`` (Zenodo ``TrainData/ValidData/TestData``), ``'l4s_mirror'``
    (``images/annotations/{train,validation,test}``), ``'bijie'``, ``'cas'``, ``'gvlm'``.
    ``num_images`` is the number of training images for L4S (val/test get a quarter, at
    least 2), of images per class for Bijie, of tiles per sub-dataset (two sub-datasets) for
    CAS, and of site scenes for GVLM (scenes are about ``2 * size`` wide; cut them with
    ``tools/dataset_converters/gvlm.py``). ``'inventory'`` writes the georeferenced pair of
    :mod:`lszoo.datasets.synthetic_geo` (two ``4 * size`` scenes, DEM, GeoPackage inventory;
    ``num_images`` unused); ``'sen12'`` the Sen12Landslides NetCDF layout of
    :mod:`lszoo.datasets.synthetic_sen12` (``num_images`` patch locations); ``'gvlm_change'``
    the bi-temporal world of :mod:`lszoo.datasets.synthetic_change` in GVLM's layout, cut into
    tiles (``num_images`` sites of ``size`` pixels). ``options`` go to the writer (e.g. the
    change world's ``tile``). Returns ``root``.
    """
    if name not in WRITERS:
        raise ConfigError(f'write_synthetic_dataset: unknown dataset {name!r}; '
                          f'expected one of {WRITERS}')
    if num_images < 1:
        raise ConfigError(f'write_synthetic_dataset: num_images must be >= 1, got {num_images}')
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    if name in ('l4s', 'l4s_mirror'):
        _write_l4s(root, num_images, size, seed, mirror=name == 'l4s_mirror')
    elif name == 'bijie':
        _write_bijie(root, num_images, size, seed)
    elif name == 'cas':
        _write_cas(root, num_images, size, seed)
    elif name == 'gvlm':
        _write_gvlm(root, num_images, size, seed)
    elif name == 'sen12':
        from .synthetic_sen12 import write_sen12_synthetic
        write_sen12_synthetic(root, patches=num_images, size=size, seed=seed, **options)
    elif name == 'gvlm_change':
        from .synthetic_change import write_change_world
        write_change_world(root, num_sites=num_images, size=size, seed=seed, **options)
    else:
        from .synthetic_geo import write_georeferenced_pair
        write_georeferenced_pair(root, size=4 * size, seed=seed)
    return root


def ensure_synthetic_data(cfg, loader_keys=('train_dataloader', 'val_dataloader',
                                            'test_dataloader')) -> list:
    """Write a demo config's synthetic data where its loaders expect it and nothing is there.

    A config opts in with ``synthetic_data = dict(name=<one of WRITERS>, size=..., seed=...,
    num_images=...)`` (:func:`write_synthetic_dataset`'s arguments): every loader's missing
    ``data_root`` is written once, into a temporary sibling folder renamed when complete, so an
    interrupted run never leaves half a dataset that a later run would take as present.
    Returns the folders written (each announced on stdout).
    """
    import os
    import shutil
    import tempfile

    from lszoo.utils.config import loader_datasets
    spec = cfg.get('synthetic_data')
    if not spec:
        return []
    written = []
    for key in loader_keys:
        for _, ds in loader_datasets(cfg, key):
            root = ds.get('data_root')
            if not root or Path(root).exists() or root in written:
                continue
            parent = Path(root).resolve().parent
            parent.mkdir(parents=True, exist_ok=True)
            tmp = tempfile.mkdtemp(prefix=f'.{Path(root).name}.', suffix='.part', dir=parent)
            try:
                write_synthetic_dataset(root=tmp, **dict(spec))
                os.replace(tmp, root)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            print(f'lszoo: wrote synthetic {spec["name"]} data to {root} (first run of this '
                  'config; delete the folder to make it anew)', flush=True)
            written.append(root)
    return written
