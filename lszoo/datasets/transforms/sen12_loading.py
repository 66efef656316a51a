"""Loading and normalisation of Sen12Landslides samples (see lszoo/datasets/sen12landslides.py)."""
from typing import Dict, List

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from lszoo.datasets.io import map_mask
from lszoo.datasets.netcdf import NetCDFPatch
from lszoo.datasets.sen12landslides import (DEM_RANGE, S2_RANGE, SAR_DB_RANGE, mask_index,
                                            parse_pre_post, select_dates)
from lszoo.errors import DataError


def _sar(arr: np.ndarray, linear: bool) -> np.ndarray:
    if linear:  # raw files: linear power -> dB as the authors' postprocess_s1_dataset
        arr = 10.0 * np.log10(np.where(arr <= 0, 1e-6, arr))
    return np.clip(arr, *SAR_DB_RANGE)


def _reduce(stack: np.ndarray, how: str) -> np.ndarray:
    """Composite ``(n, H, W)`` over its valid values (NaN where no date is valid).

    The median sorts once (NaN last) and averages the middle valid values: the same as
    ``np.nanmedian``, several times faster on these small stacks."""
    if stack.shape[0] == 1:
        return stack[0]
    valid = np.isfinite(stack).sum(0)
    if how == 'mean':
        with np.errstate(invalid='ignore', divide='ignore'):
            return np.where(np.isfinite(stack), stack, 0).sum(0) / valid
    ordered = np.sort(stack, axis=0)
    lo = np.take_along_axis(ordered, np.maximum(valid - 1, 0)[None] // 2, 0)[0]
    hi = np.take_along_axis(ordered, (valid // 2)[None].clip(max=stack.shape[0] - 1), 0)[0]
    out = 0.5 * (lo + hi)
    out[valid == 0] = np.nan
    return out


def read_sensor(f: NetCDFPatch, sensor: str, results: dict) -> Dict:
    """One sensor file -> {'groups': {group: [H x W per band]}, 'pre_post', 'times'}."""
    bands = results['sensor_bands'][sensor]
    need = list(bands) + ['MASK'] + (['DEM'] if results['dem'] else [])
    if sensor == 's2' and results['scl_mask'] is not None:
        need.append('SCL')
    absent = [v for v in need + ['time'] if v not in f.variables]
    if absent:
        raise DataError(f'{f.path}: variable(s) {absent} missing (the {sensor} files of '
                        f'Sen12Landslides have {need})')
    times = f.times()
    n = results['n_dates']
    if len(times) != n:
        raise DataError(f'{f.path}: {len(times)} dates, Sen12Landslides patches have {n}')
    pre_post = parse_pre_post(f.attr('pre_post_dates'), f.path)
    groups = select_dates(results['dates'], n, pre_post, f.path,
                          results['composite_window'], results['no_event_post'])
    idx = sorted({i for g in groups.values() for i in g})
    pos = {t: k for k, t in enumerate(idx)}
    invalid = None
    if sensor == 's2' and results['scl_mask'] is not None:
        invalid = np.isin(f.read('SCL', idx), results['scl_mask'])
    out = {g: [] for g in groups}
    for band in bands:
        arr = f.read(band, idx, dtype=np.float32)
        if sensor == 's2':
            arr = np.clip(arr, *S2_RANGE) if results['clip'] else arr
            if invalid is not None:
                arr[invalid] = np.nan
        elif results['sar_db']:
            arr = _sar(arr, results['sar_linear'])
        for g, dates in groups.items():
            out[g].append(arr[pos[dates[0]]] if len(dates) == 1 else
                          _reduce(arr[[pos[t] for t in dates]], results['composite']))
    return dict(groups=out, pre_post=pre_post, times=[str(times[i]) for i in idx],
                shape=arr.shape[1:])


@TRANSFORMS.register_module()
class LoadSen12Sample(BaseTransform):
    """Read a Sen12Landslides sample's NetCDF files into ``img`` and ``gt_seg_map``.

    ``img`` is float32 ``H x W x C`` in the dataset's channel order (date groups, then the
    sensors' bands, then DEM), with NaN where the S2 scene classification masked clouds or
    shadows (composites skip those values); :class:`Sen12Normalize` normalises and fills them.
    ``gt_seg_map`` is ``MASK`` at the first post-event date of the first sensor (0/1).
    """

    def transform(self, results: dict) -> dict:
        channels: Dict[str, List[np.ndarray]] = {}
        first = None
        for sensor, path in results['files'].items():
            with NetCDFPatch(path) as f:
                got = read_sensor(f, sensor, results)
                if first is None:
                    first = got
                    first['mask'], first['dem_arr'] = self._mask_dem(f, got, results)
                elif got['shape'] != first['shape']:
                    raise DataError(f'{path}: size {got["shape"]} differs from '
                                    f'{results["img_path"]} {first["shape"]}')
            for g, arrs in got['groups'].items():
                channels.setdefault(g, []).extend(arrs)
        stack = [a for g in channels for a in channels[g]]
        if results['dem']:
            stack.append(first['dem_arr'])
        img = np.stack(stack, axis=0).astype(np.float32, copy=False).transpose(1, 2, 0)
        if img.shape[2] != len(results['band_names']):
            raise DataError(f'{results["img_path"]}: read {img.shape[2]} channels, the dataset '
                            f'expects {len(results["band_names"])}')
        results['img'] = img
        results['img_shape'] = results['ori_shape'] = img.shape[:2]
        results['gt_seg_map'] = first['mask']
        results.setdefault('seg_fields', []).append('gt_seg_map')
        results['dates_read'] = first['times']
        results['pre_post'] = first['pre_post']
        return results

    @staticmethod
    def _mask_dem(f: NetCDFPatch, got: dict, results: dict):
        t = mask_index(got['pre_post'], results['no_event_post'])
        mask = map_mask(f.read('MASK', [t])[0], {0: 0, 1: 1}, f.path)
        dem = None
        if results['dem']:
            dem = f.read('DEM', [t], dtype=np.float32)[0]
            if results['clip']:
                dem = np.clip(dem, *DEM_RANGE)
        return mask, dem


@TRANSFORMS.register_module()
class Sen12Normalize(BaseTransform):
    """``(x - mean) / std`` per channel with the task's ``norm.json`` (carried by the sample),
    then invalid values (cloud-masked, NaN) set to 0, i.e. the band's training mean."""

    def transform(self, results: dict) -> dict:
        img = results['img']
        mean = np.asarray(results['norm_mean'], np.float32)
        std = np.asarray(results['norm_std'], np.float32)
        if mean.shape[0] != img.shape[2]:
            raise DataError(f'{results.get("img_path")}: {img.shape[2]} channels, '
                            f'{mean.shape[0]} normalisation values')
        img = np.ascontiguousarray(img, dtype=np.float32)
        img -= mean
        img /= std
        np.nan_to_num(img, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        results['img'] = img
        return results
