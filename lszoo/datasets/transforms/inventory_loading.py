"""Loading of one window of a georeferenced scene with its label rasterised from polygons."""
import warnings
from contextlib import ExitStack

import numpy as np
from mmseg.registry import TRANSFORMS

from lszoo.geo.bands import is_dem_band
from lszoo.geo.nodata import fill_nodata
from lszoo.geo.rasterize import IGNORE_INDEX, rasterize_window
from .loading import InvalidPixelWarning, LoadLandslideSample


@TRANSFORMS.register_module()
class LoadInventoryWindow(LoadLandslideSample):
    """Read the window an :class:`~lszoo.datasets.InventoryDataset` sample names.

    Only the window is read (rasterio window reads; the DEM and a pre-event image through a
    :class:`rasterio.vrt.WarpedVRT` on the scene grid, as scene inference reads them, so
    training and mapping see the same resampled values). A pixel missing in the scene or the
    pre-event image is labelled 255. Bands come in the dataset's order.
    NaN / nodata pixels are replaced by the window's channel median (as in scene inference and
    :class:`LoadLandslideSample`, reported once per loader) and labelled 255 (ignored): there is
    no image to learn from there. Adds ``img`` (float32 ``H x W x C``), ``gt_seg_map`` (uint8
    0/1/255), ``img_shape``, ``ori_shape``, ``crs`` and ``transform`` (of the window).

    A :class:`LoadLandslideSample` for windows: it shares its options, and scene inference
    leaves it out of the per-tile steps as it does every sample loader.

    Args:
        nodata_fill (str | float): ``'median'`` (the window's channel median) or a number.
        with_seg (bool): rasterise the label too.
    """

    def __init__(self, nodata_fill='median', with_seg: bool = True):
        super().__init__(nodata_fill=nodata_fill, with_seg=with_seg)
        self._readers = {}

    def _reader(self, path, dem, scene_bands, bands, pre=None, stream_layout=None):
        from lszoo.geo.reader import SceneReader  # rasterio only when windows are read
        uses_dem = dem is not None and any(is_dem_band(b) for b in bands)
        key = (path, dem if uses_dem else None, tuple(bands), pre)
        if key not in self._readers:
            stack = ExitStack()
            reader = SceneReader(stack, path, dem if uses_dem else None, list(bands), None,
                                 list(scene_bands), warn_partial_dem=False, pre_path=pre,
                                 stream_layout=stream_layout)
            self._readers[key] = (stack, reader)
        return self._readers[key][1]

    def transform(self, results: dict) -> dict:
        from rasterio.windows import Window
        x, y, w, h = results['window']
        reader = self._reader(results['img_path'], results.get('dem_path'),
                              results['scene_band_names'], results['band_names'],
                              results.get('pre_path'), results.get('stream_layout'))
        img = reader.read(y, y + h, x, x + w).transpose(1, 2, 0).astype(np.float32)
        valid = reader.valid(y, y + h, x, x + w)
        if valid is not None and not valid.all():
            fill_nodata(img, ~valid, self.nodata_fill)
            if not self._reported:
                self._reported = True
                warnings.warn(f'{results["img_path"]}: {int((~valid).sum())} nodata pixels in '
                              f'window (x, y, w, h) = {tuple(map(int, results["window"]))} '
                              f'replaced ({self.nodata_fill}); further '
                              'windows with nodata are not reported', InvalidPixelWarning,
                              stacklevel=2)
        win = Window(x, y, w, h)
        transform = reader.src.window_transform(win)
        results['img'] = np.ascontiguousarray(img)
        results['img_shape'] = results['ori_shape'] = (h, w)
        results['crs'] = reader.src.crs.to_string()
        results['transform'] = tuple(transform)[:6]
        if self.with_seg:
            label = rasterize_window(results.get('geometries') or [], transform, (h, w),
                                     results.get('ignore_buffer', 0.0))
            dates_ok = reader.valid(y, y + h, x, x + w, dem=False)
            if dates_ok is not None:  # no image, or no pre-event image: nothing to learn
                label[~dates_ok] = IGNORE_INDEX
            results['gt_seg_map'] = label
            results.setdefault('seg_fields', [])
            if 'gt_seg_map' not in results['seg_fields']:
                results['seg_fields'].append('gt_seg_map')
        return results

    def __getstate__(self):  # open datasets cannot be pickled (dataloader workers)
        state = dict(self.__dict__)
        state['_readers'] = {}
        return state

    def __repr__(self):
        return (f'{type(self).__name__}(nodata_fill={self.nodata_fill!r}, '
                f'with_seg={self.with_seg})')
