"""Loading of landslide samples: a dataset's reading plan -> ``img`` and ``gt_seg_map``."""
import warnings

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from lszoo.datasets.io import check_same_size, map_mask, read_h5, read_raster, single_band
from lszoo.errors import DataError
from lszoo.geo.nodata import fill_nodata


class InvalidPixelWarning(UserWarning):
    """NaN or nodata values were replaced while loading (reported once per loader)."""


class AlphaBandWarning(UserWarning):
    """A file's extra band is marked as alpha and was dropped (reported once per loader)."""


class InvalidImageWarning(UserWarning):
    """An image has no valid pixel (all NaN/inf/nodata) and was excluded (once per file)."""


@TRANSFORMS.register_module()
class LoadLandslideSample(BaseTransform):
    """Read the sample files listed by a landslide dataset and stack the chosen bands.

    Reads every source (h5 via h5py, TIFF/PNG via rasterio), checks band counts and sizes,
    replaces NaN / nodata by a fill value (reported once per loader with the first file
    concerned, as an :class:`InvalidPixelWarning`), stacks the channels in file order, picks the
    configured bands (computing derived indices such as NDVI) and reads the mask through the
    dataset's value encoding. Adds ``img`` (float32 ``H x W x C``), ``gt_seg_map`` (uint8
    0/1/255, absent for splits without masks), ``img_shape``, ``ori_shape``, ``band_names``,
    ``stream_layout`` and, for georeferenced files, ``crs`` and ``transform``.

    Args:
        nodata_fill (str | float): ``'median'`` (median of the channel's valid pixels, so a
            hole in a DEM does not become a cliff) or a number.
        with_seg (bool): also load the mask. Test pipelines that resize set it False and put
            :class:`LoadLandslideAnnotations` after the resize, so that the mask keeps its
            original size and metrics compare at full resolution (mmseg's convention:
            predictions are resized back to ``ori_shape``).
    """

    def __init__(self, nodata_fill='median', with_seg: bool = True):
        self.with_seg = with_seg
        if nodata_fill != 'median' and not isinstance(nodata_fill, (int, float)):
            raise ValueError(f"nodata_fill must be 'median' or a number, got {nodata_fill!r}")
        self.nodata_fill = nodata_fill
        self._reported = False
        self._alpha_reported = False
        self._invalid_reported = set()

    def _read_source(self, src: dict):
        path = src['path']
        meta = {}
        if src['kind'] == 'h5':
            arr = read_h5(path, src.get('key', 'img'))
        else:
            arr, meta = read_raster(path)
        return self.conform(arr, meta, src), meta

    def conform(self, arr: np.ndarray, meta: dict, src: dict) -> np.ndarray:
        """Check a source's raw array against the dataset's expectations (shape, bands, dtype)
        and drop a band the file marks as alpha; also used by :mod:`lszoo.datasets.check`."""
        path = src['path']
        if arr.ndim == 2:
            arr = arr[..., None]
        if arr.ndim != 3:
            raise DataError(f'{path}: expected an H x W x C image, got shape {arr.shape}')
        want = src.get('bands')
        if src.get('role') == 'dem':
            arr = single_band(arr, path, 'DEM')[..., None]
        elif (want is not None and arr.shape[2] == want + 1
              and meta.get('alpha_band') == arr.shape[2] - 1):
            arr = arr[..., :want]  # the file marks its last band as alpha: not data
            if not self._alpha_reported:
                self._alpha_reported = True
                warnings.warn(f'{path}: band {want + 1} is an alpha band (rasterio colorinterp); '
                              'it is dropped (further files with alpha are not reported)',
                              AlphaBandWarning, stacklevel=2)
        dtype = src.get('dtype')
        if dtype is not None and (arr.dtype != np.dtype(dtype) or arr.shape[2] != want):
            raise DataError(f'{path}: {arr.dtype} with {arr.shape[2]} band(s) (no alpha band '
                            f'marked); {src.get("role", "image")} files of this dataset must be '
                            f'{np.dtype(dtype).name} with {want} bands '
                            f'({src.get("format", "as distributed")})')
        if want is not None and arr.shape[2] != want:
            raise DataError(f'{path}: has {arr.shape[2]} bands, expected {want} '
                            f'({src.get("role", "image")} of this dataset)')
        return arr

    def _fill(self, arr: np.ndarray, nodata, path, role):
        arr = arr.astype(np.float32, copy=False)
        bad = ~np.isfinite(arr)
        if nodata is not None:
            bad |= arr == nodata
        total = fill_nodata(arr, bad, self.nodata_fill) if bad.any() else 0
        if total and not self._reported:
            self._reported = True
            how = 'channel median' if self.nodata_fill == 'median' else self.nodata_fill
            warnings.warn(f'{path}: {total} NaN/nodata pixels in the {role} replaced '
                          f'({how}); further files with invalid pixels are not reported',
                          InvalidPixelWarning, stacklevel=2)
        return arr

    def transform(self, results: dict) -> dict:
        stack, geo, first = [], {}, None
        for src in results['sources']:
            arr, meta = self._read_source(src)
            if first is None:
                first = (src['path'], arr.shape)
                geo = {k: meta[k] for k in ('crs', 'transform') if k in meta}
            else:
                check_same_size(first[1], arr.shape, first[0], src['path'],
                                what=src.get('role', 'band file'))
            if arr.dtype.kind == 'f' or meta.get('nodata') is not None:
                if src.get('role', 'image') == 'image' and \
                        all_invalid(arr, meta.get('nodata')):
                    return self._exclude(results, src['path'], arr.shape[:2])
                arr = self._fill(arr, meta.get('nodata'), src['path'], src.get('role', 'image'))
            stack.append(arr)
        raw = stack[0] if len(stack) == 1 else np.concatenate(stack, axis=2)
        results['img'] = self._select(raw, results['band_index'], results['sources'][0]['path'])
        h, w = results['img'].shape[:2]
        results['img_shape'] = results['ori_shape'] = (h, w)
        results.update(geo)
        if self.with_seg:
            load_mask(results, first[0], first[1][:2])
        return results

    def _exclude(self, results: dict, path, hw):
        """An image without one valid pixel: dropped from training, ignored in evaluation.

        Training splits (``invalid_image='skip'``, set by the dataset) return ``None``, so
        mmengine's dataset fetches another sample; evaluation splits keep the sample with its
        mask set to 255 (ignored), so metrics and sample counts do not change silently.
        """
        action = results.get('invalid_image', 'raise')
        if action == 'raise':
            raise DataError(f'{path}: every pixel is NaN/inf/nodata (no valid pixel)')
        if path not in self._invalid_reported:
            self._invalid_reported.add(path)
            what = ('excluded from training' if action == 'skip' else
                    'kept with its mask ignored (255) in evaluation')
            warnings.warn(f'{path}: every pixel is NaN/inf/nodata; the sample is {what}',
                          InvalidImageWarning, stacklevel=3)
        if action == 'skip':
            return None
        n = len(results['band_index'])
        results['img'] = np.zeros(tuple(hw) + (n,), np.float32)
        results['img_shape'] = results['ori_shape'] = tuple(hw)
        results['invalid_image'] = 'ignored'  # load_mask makes the whole mask 255
        if self.with_seg:
            load_mask(results, path, hw)
        return results

    @staticmethod
    def _select(raw: np.ndarray, band_index, path) -> np.ndarray:
        if all(isinstance(b, int) for b in band_index):
            if max(band_index) >= raw.shape[2]:
                raise DataError(f'{path}: band index {max(band_index)} out of range for '
                                f'{raw.shape[2]} bands')
            if list(band_index) == list(range(raw.shape[2])):
                return np.ascontiguousarray(raw, dtype=np.float32)
            return np.ascontiguousarray(raw[..., list(band_index)], dtype=np.float32)
        out = np.empty(raw.shape[:2] + (len(band_index),), np.float32)
        for k, b in enumerate(band_index):
            if isinstance(b, int):
                out[..., k] = raw[..., b]
            elif b[0] == 'ndvi':
                nir, red = raw[..., b[1]], raw[..., b[2]]
                den = nir + red
                with np.errstate(divide='ignore', invalid='ignore'):
                    out[..., k] = np.where(den != 0, (nir - red) / np.where(den != 0, den, 1), 0)
            else:
                raise DataError(f'{path}: unknown derived band {b!r}')
        return out

    def __repr__(self):
        return (f'{type(self).__name__}(nodata_fill={self.nodata_fill!r}, '
                f'with_seg={self.with_seg})')


def all_invalid(arr: np.ndarray, nodata) -> bool:
    """Whether no value of ``arr`` is finite and different from ``nodata``."""
    bad = ~np.isfinite(arr)
    if nodata is not None and not (isinstance(nodata, float) and np.isnan(nodata)):
        bad |= arr == nodata
    return bool(bad.all())


def load_mask(results: dict, img_path, hw) -> dict:
    """Read ``seg_map_path`` through the dataset's encoding into ``gt_seg_map`` (0/1/255)."""
    results.setdefault('seg_fields', [])
    seg = results.get('seg_map_path')
    if results.get('invalid_image') == 'ignored':  # see LoadLandslideSample._exclude
        if seg or results.get('empty_mask'):
            results['gt_seg_map'] = np.full(tuple(hw), 255, np.uint8)
    elif seg:
        if results.get('mask_kind') == 'h5':
            mask = read_h5(seg, results.get('mask_key', 'mask'))
        else:
            mask, _ = read_raster(seg)
        mask = single_band(mask, seg, 'mask')
        check_same_size(tuple(hw), mask.shape, img_path, seg, what='mask')
        results['gt_seg_map'] = map_mask(mask, results['mask_map'], seg)
    elif results.get('empty_mask'):
        results['gt_seg_map'] = np.zeros(tuple(hw), np.uint8)
    if 'gt_seg_map' in results and 'gt_seg_map' not in results['seg_fields']:
        results['seg_fields'].append('gt_seg_map')
    return results


@TRANSFORMS.register_module()
class LoadLandslideAnnotations(BaseTransform):
    """Load the mask of a sample loaded by ``LoadLandslideSample(with_seg=False)``.

    Checked against the image's original size (``ori_shape``), whatever resizing happened in
    between, so evaluation happens at the original resolution.
    """

    def transform(self, results: dict) -> dict:
        return load_mask(results, results.get('img_path'), results['ori_shape'][:2])
