"""Synthetic Sen12Landslides copies in the distributed NetCDF layout (tests and demos).

Each patch is a 15-date series per sensor around one landslide event that falls between two
acquisitions: Sentinel-2 (10 bands, int16 DN, SCL) whose scars appear after the event and whose
dates are partly clouded (the SCL marks clouds 8/9 and shadows 3; the first post-event date is
clouded more often, as after real storms), Sentinel-1 ascending / descending VV, VH in dB with
multiplicative speckle where vegetation loss lowers the backscatter on the scars after the event,
the DEM and the MASK. Scenes come from :func:`lszoo.datasets.synthetic.generate_scene` in its hard
world, whose bare quarries look like scars in every band but exist before the event too: only the
change in time tells them apart. ``tasks/<task>/<version>/`` gets ``splits.json`` / ``norm.json``
per sensor and the ``*_aligned.json`` pair, computed like the authors' ``create_splits.py``.

    python -m lszoo.datasets.synthetic_sen12 data/sen12_synthetic --patches 96 --size 64
"""
import argparse
import json
from collections import OrderedDict
from pathlib import Path
from typing import Dict, Optional, Sequence

import cv2
import numpy as np

from lszoo.errors import ConfigError
from .sen12landslides import SENSOR_BANDS
from .synthetic import S2_BANDS, generate_scene

N_DATES = 15
_EPOCH = np.datetime64('2021-01-01')
_CLOUD_DN = np.array([5200, 5500, 5800, 6000, 6100, 6200, 6200, 6300, 5400, 4400], np.float32)


def write_patch_nc(path, variables: Dict[str, np.ndarray], times: np.ndarray, x: np.ndarray,
                   y: np.ndarray, attrs: Dict, dim_order: str = 'xy') -> Path:
    """Write one patch as netCDF-4 (HDF5 with dimension scales) through h5py.

    ``variables`` are ``(time, y, x)`` arrays, stored ``(time, x, y)`` (``dim_order='xy'``, the
    README's print) or ``(time, y, x)`` (``'yx'``, the authors' writer). Times are
    ``datetime64[D]``, written CF-style as int64 "days since" the first date; text attributes
    as fixed-length strings, as netCDF4-python writes them.
    """
    import h5py
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dims = ('time', 'x', 'y') if dim_order == 'xy' else ('time', 'y', 'x')
    with h5py.File(path, 'w', track_order=True) as f:
        days = (times - times[0]).astype('timedelta64[D]').astype(np.int64)
        coords = {'time': days, 'x': x.astype(np.float64), 'y': y.astype(np.float64)}
        scales = {}
        for i, name in enumerate(dims):
            ds = f.create_dataset(name, data=coords[name])
            ds.make_scale(name)
            ds.attrs['_Netcdf4Dimid'] = np.int32(i)
            scales[name] = ds
        f['time'].attrs['units'] = np.bytes_(f'days since {times[0]}')
        f['time'].attrs['calendar'] = np.bytes_('proleptic_gregorian')
        for name, arr in variables.items():
            data = arr if dim_order == 'yx' else np.swapaxes(arr, 1, 2)
            kw = {'fillvalue': np.float32(np.nan)} if arr.dtype == np.float32 else {}
            ds = f.create_dataset(name, data=data, **kw)
            if arr.dtype == np.float32:
                ds.attrs['_FillValue'] = np.float32(np.nan)
            ds.attrs['grid_mapping'] = np.bytes_('spatial_ref')
            for i, d in enumerate(dims):
                ds.dims[i].attach_scale(scales[d])
        ref = f.create_dataset('spatial_ref', data=np.int64(0))
        ref.attrs['crs_wkt'] = np.bytes_(str(attrs.get('crs', '')))
        for k, v in attrs.items():
            f.attrs[k] = v if isinstance(v, (float, np.floating)) else np.bytes_(str(v))
    return path


def _blobs(rng: np.random.Generator, size: int, cover: float) -> np.ndarray:
    grid = rng.uniform(0, 1, (5, 5)).astype(np.float32)
    field = cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
    return field > np.quantile(field, 1 - cover)


def _to_sen12_bands(s2: np.ndarray) -> np.ndarray:
    """Generator's 12 bands (B1..B12, no B8A) -> Sen12's 10 (B02..B8A..B12), reflectance."""
    b = {n: s2[..., i] for i, n in enumerate(S2_BANDS)}
    b['B8A'] = 0.5 * (b['B8'] + b['B9'])
    names = [n if n == 'B8A' else 'B' + n[1:].lstrip('0') for n in SENSOR_BANDS['s2']]
    return np.stack([b[n] for n in names], 0)


def _pre_post(times: np.ndarray, event: np.datetime64) -> Dict[str, int]:
    """The authors' rule (patch_module.extract_pre_post_indices), for one event."""
    i = int(np.searchsorted(times, event))
    if i == 0:
        return {'pre': 0, 'post': 0}
    if i == len(times):
        return {'pre': len(times) - 1, 'post': len(times) - 1}
    return {'pre': i - 1, 'post': i}


def _s2_series(rng, pre, post, times, event, size):
    """(bands 10 x T x H x W int16, SCL T x H x W int16)."""
    pre10, post10 = _to_sen12_bands(pre), _to_sen12_bands(post)
    first_post = int(np.searchsorted(times, event))
    bands = np.empty((10, len(times), size, size), np.float32)
    scl = np.empty((len(times), size, size), np.int16)
    for t, day in enumerate(times):
        ref = (post10 if day > event else pre10).copy()
        season = 1 + 0.06 * np.sin(2 * np.pi * (day - _EPOCH).astype(int) / 365.0)
        ref[6:8] *= season
        dn = ref * 10000 + rng.normal(0, 40, ref.shape)
        nir, red = ref[6], ref[2]
        scl[t] = np.where((nir - red) / np.maximum(nir + red, 1e-6) > 0.35, 4, 5)
        if rng.random() < (0.6 if t == first_post else 0.3):
            cloud = _blobs(rng, size, rng.uniform(0.25, 0.7))
            shadow = np.roll(cloud, (size // 10, size // 10), (0, 1)) & ~cloud
            dn[:, shadow] *= 0.35
            dn[:, cloud] = _CLOUD_DN[:, None] + rng.normal(0, 150, (10, int(cloud.sum())))
            scl[t][shadow] = 3
            scl[t][cloud] = np.where(rng.random(int(cloud.sum())) < 0.5, 8, 9)
        bands[:, t] = dn
    return np.clip(np.round(bands), 0, 10000).astype(np.int16), scl


def _s1_series(rng, pre, post, dem, times, event, look: float):
    """(VV, VH) T x H x W float32 dB: vegetation raises backscatter, speckle (3 looks)."""
    def veg(s2):
        nir, red = s2[..., 7], s2[..., 3]
        return np.clip(((nir - red) / np.maximum(nir + red, 1e-6) - 0.1) / 0.6, 0, 1)
    gx = np.gradient(dem.astype(np.float32), axis=1) / 10.0
    terrain = np.clip(look * 6.0 * gx, -4, 4)
    out = {'VV': [], 'VH': []}
    for day in times:
        v = veg(post if day > event else pre)
        mean = {'VV': -11.5 + 3.0 * v + terrain, 'VH': -21.0 + 7.0 * v + terrain}
        for pol in out:
            speckle = rng.gamma(3.0, 1 / 3.0, v.shape)
            out[pol].append(mean[pol] + 10 * np.log10(speckle))
    return {p: np.clip(np.stack(a), -50, 10).astype(np.float32) for p, a in out.items()}


def make_patch(seed: int, size: int = 64, sensors: Sequence[str] = ('s2', 's1asc', 's1dsc'),
               n_dates: int = N_DATES) -> Dict[str, dict]:
    """One synthetic location: sensor -> dict(variables, times, attrs, pixels)."""
    rng = np.random.default_rng(seed)
    post = generate_scene(seed, size, landslides=True, hard=True)
    pre = generate_scene(seed, size, landslides=False, hard=True)
    start = _EPOCH + np.timedelta64(int(rng.integers(0, 365)), 'D')
    s2_times = start + np.arange(n_dates) * np.timedelta64(24, 'D')
    pre_i = int(rng.integers(4, 10))
    event = s2_times[pre_i] + np.timedelta64(int(rng.integers(1, 23)), 'D')
    mask = post.mask.astype(np.uint8)
    dem = np.round(post.dem).astype(np.int16)
    x0, y0 = 500000.0 + 2000 * (seed % 50), 4800000.0 - 2000 * (seed // 50)
    out = {}
    for s in sensors:
        if s == 's2':
            times = s2_times
            bands, scl = _s2_series(rng, pre.s2, post.s2, times, event, size)
            variables = OrderedDict(zip(SENSOR_BANDS['s2'], bands))
            variables['SCL'] = scl
        else:
            offset = 3 if s == 's1asc' else 9
            times = s2_times + np.timedelta64(offset, 'D')
            sar = _s1_series(rng, pre.s2, post.s2, post.dem, times, event,
                             1.0 if s == 's1asc' else -1.0)
            variables = OrderedDict((p, sar[p]) for p in ('VH', 'VV'))
        variables['MASK'] = np.repeat(mask[None], n_dates, 0)
        variables['DEM'] = np.repeat(dem[None], n_dates, 0)
        attrs = OrderedDict(
            ann_id='1', ann_bbox='None', event_date=str(event), date_confidence='1.0',
            pre_post_dates=str(_pre_post(times, event)), annotated=str(bool(mask.any())),
            satellite='s2' if s == 's2' else s[:2] + '-' + s[2:],
            center_lat=float(y0 - 5 * size), center_lon=float(x0 + 5 * size), crs='EPSG:32632')
        out[s] = dict(variables=variables, times=times, attrs=attrs, pixels=int(mask.sum()),
                      x=x0 + 5 + 10 * np.arange(size), y=y0 - 5 - 10 * np.arange(size))
    return out


def _norm(stats: Dict[str, list]) -> dict:
    """Per-band mean / std over all training values (the authors' compute_mean_std)."""
    out = {'mean': {}, 'std': {}}
    for band, parts in stats.items():
        values = np.concatenate(parts)
        out['mean'][band], out['std'][band] = float(values.mean()), float(values.std())
    return out


def write_sen12_synthetic(root, patches: int = 48, size: int = 64, seed: int = 0,
                          task: str = 'S12LS-LD', version: str = 'harmonized',
                          sensors: Sequence[str] = ('s2', 's1asc', 's1dsc'),
                          fractions=(0.6, 0.2, 0.2), dim_order: str = 'xy',
                          region: str = 'synthia') -> Path:
    """Write ``patches`` locations under ``root`` in the distributed layout; returns ``root``."""
    if patches < 3 or size < 16:
        raise ConfigError(f'write_sen12_synthetic: need >= 3 patches of >= 16 px, got '
                          f'{patches} x {size}')
    root = Path(root)
    data = root / 'data' / f'data_{version}'
    rng = np.random.default_rng(seed)
    order = rng.permutation(patches)
    n_train, n_val = int(fractions[0] * patches), int(fractions[1] * patches)
    split_of = {int(i): ('train' if k < n_train else 'val' if k < n_train + n_val else 'test')
                for k, i in enumerate(order)}
    splits = {s: {'train': [], 'val': [], 'test': []} for s in list(sensors) + ['aligned']}
    stats: Dict[str, Dict[str, list]] = {s: OrderedDict() for s in sensors}
    for i in range(patches):
        pid = f'{region}_{i}'
        patch = make_patch(seed * 100_003 + i, size, sensors)
        entry = {'id': pid}
        for s, p in patch.items():
            rel = f'{s}/{region}_{s}_{i}.nc'
            write_patch_nc(data / rel, p['variables'], p['times'], p['x'], p['y'], p['attrs'],
                           dim_order)
            entry[s] = rel
            splits[s][split_of[i]].append({'id': pid, s: rel, 'pixel_annotated': p['pixels'],
                                           'inventory': region})
            if split_of[i] == 'train':
                for name, arr in p['variables'].items():
                    if name not in ('MASK', 'SCL'):
                        stats[s].setdefault(name, []).append(arr.astype(np.float64).ravel())
        entry.update(pixel_annotated=patch[sensors[0]]['pixels'], inventory=region)
        splits['aligned'][split_of[i]].append(entry)
    tasks = root / 'tasks' / task / version
    for s in sensors:
        (tasks / s).mkdir(parents=True, exist_ok=True)
        (tasks / s / 'splits.json').write_text(json.dumps(splits[s], indent=2))
        (tasks / s / 'norm.json').write_text(json.dumps({s: _norm(stats[s])}, indent=2))
    (tasks / 'splits_aligned.json').write_text(json.dumps(splits['aligned'], indent=2))
    (tasks / 'norm_aligned.json').write_text(
        json.dumps({s: _norm(stats[s]) for s in sorted(sensors)}, indent=2))
    (root / 'SYNTHETIC').write_text(f'lszoo synthetic Sen12Landslides: {patches} patches, '
                                    f'{size} px, seed {seed}\n')
    return root


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('root')
    ap.add_argument('--patches', type=int, default=48)
    ap.add_argument('--size', type=int, default=64)
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args(argv)
    print(write_sen12_synthetic(args.root, args.patches, args.size, args.seed))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
