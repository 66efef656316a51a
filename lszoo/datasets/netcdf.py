"""Read netCDF-4 patches (Sen12Landslides) with h5py alone.

A netCDF-4 file is an HDF5 file whose dimensions are HDF5 dimension scales, so h5py, already a
lszoo dependency, reads it without netCDF4 / h5netcdf / xarray (the lightest choice; the
synthetic writer's files are checked against h5netcdf, a netCDF-4 reader, in the tests). This
module decodes the few netCDF/CF conventions those files use: dimension names (variables are
returned ``(time, y, x)`` whatever order the file stores), ``_FillValue`` /
``scale_factor`` / ``add_offset``, CF time (``"<unit> since <date>"``) and text attributes
(stored as fixed- or variable-length strings).

Every failure is a :class:`~lszoo.errors.DataError` naming the file.
"""
import re
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from lszoo.errors import DataError

_UNITS = {'days': 'D', 'day': 'D', 'hours': 'h', 'hour': 'h', 'minutes': 'm', 'minute': 'm',
          'seconds': 's', 'second': 's', 'milliseconds': 'ms', 'microseconds': 'us',
          'nanoseconds': 'ns'}
SPATIAL = ('time', 'y', 'x')


def _text(value) -> str:
    if isinstance(value, np.ndarray):
        value = value.tolist()
        if isinstance(value, list):
            value = value[0] if len(value) == 1 else ','.join(map(str, value))
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode('utf-8', 'replace')
    return str(value)


class NetCDFPatch:
    """An open netCDF-4 patch file (use as a context manager).

    Args:
        path: the ``.nc`` file.
    """

    def __init__(self, path):
        import h5py
        self.path = str(path)
        try:
            self._f = h5py.File(self.path, 'r')
        except FileNotFoundError:
            raise DataError(f'{self.path}: file not found') from None
        except OSError as exc:
            raise DataError(f'{self.path}: unreadable netCDF-4/HDF5 file (truncated, corrupt or '
                            f'netCDF-3): {exc}') from None
        self._names = list(self._f.keys())
        self._datasets = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._f.close()

    # ------------------------------------------------------------------ metadata
    @property
    def variables(self) -> List[str]:
        return list(self._names)

    def attr(self, name: str, default=None) -> Optional[str]:
        """Global attribute ``name`` as text (``default`` when absent)."""
        if name not in self._f.attrs:
            return default
        return _text(self._f.attrs[name])

    def _dataset(self, name: str):
        if name not in self._datasets:
            if name not in self._names:
                raise DataError(f'{self.path}: no variable {name!r} (the file holds '
                                f'{sorted(self._names)})')
            self._datasets[name] = self._f[name]
        return self._datasets[name]

    def dims(self, name: str) -> Tuple[str, ...]:
        """Dimension names of variable ``name`` from its HDF5 dimension scales.

        Read from the variable's ``DIMENSION_LIST`` object references, resolved with
        ``h5r.get_name`` (h5py's ``Dataset.dims`` proxies are several times slower)."""
        from h5py import h5r
        ds = self._dataset(name)
        try:
            refs = ds.attrs['DIMENSION_LIST']
        except (KeyError, OSError):
            raise DataError(f'{self.path}: variable {name!r} has no netCDF dimensions (no '
                            'DIMENSION_LIST: not a netCDF-4 file?)') from None
        names = []
        for i, axis in enumerate(refs):
            if len(axis) == 0:
                raise DataError(f'{self.path}: variable {name!r} axis {i} has no netCDF '
                                'dimension (not a netCDF-4 file?)')
            names.append(h5r.get_name(axis[0], self._f.id).decode().rsplit('/', 1)[-1])
        return tuple(names)

    def times(self, name: str = 'time') -> np.ndarray:
        """The CF-encoded time coordinate as ``datetime64[D]``."""
        ds = self._dataset(name)
        units = _text(ds.attrs.get('units', ''))
        m = re.match(r'\s*(\w+)\s+since\s+(\S+)(?:[ T](\S+))?', units)
        if not m or m.group(1).lower() not in _UNITS:
            raise DataError(f'{self.path}: time units {units!r} are not CF "<unit> since <date>"')
        clock = (m.group(3) or '00:00:00').rstrip('Z').split('+')[0]
        try:
            ref = np.datetime64(f'{m.group(2)}T{clock}', 'ns')
            step = np.timedelta64(1, _UNITS[m.group(1).lower()]).astype('timedelta64[ns]')
            values = np.asarray(ds[()])
            stamps = ref + np.round(values.astype(np.float64) * step.astype(np.int64)) \
                .astype('timedelta64[ns]')
        except (ValueError, OSError) as exc:
            raise DataError(f'{self.path}: cannot decode time ({units!r}): {exc}') from None
        return stamps.astype('datetime64[D]')

    # ------------------------------------------------------------------ data
    def read(self, name: str, times: Optional[Sequence[int]] = None,
             order: Sequence[str] = SPATIAL, dtype=None) -> np.ndarray:
        """Variable ``name`` transposed to ``order`` (names), optionally only some time steps.

        CF packing is undone (``scale_factor``/``add_offset``) and ``_FillValue`` becomes NaN,
        which makes the result float; an unpacked variable keeps its stored dtype unless
        ``dtype`` is given.
        """
        ds = self._dataset(name)
        dims = self.dims(name)
        if sorted(dims) != sorted(order):
            raise DataError(f'{self.path}: variable {name!r} has dimensions {dims}, expected '
                            f'{tuple(order)} in some order')
        try:
            if times is not None and dims[0] == 'time':
                idx = list(times)
                uniq = sorted(set(idx))
                arr = ds[uniq] if len(uniq) > 1 else ds[uniq[0]:uniq[0] + 1]
                arr = arr[[uniq.index(t) for t in idx]]
            else:
                arr = ds[()]
                if times is not None:
                    arr = np.take(arr, list(times), axis=dims.index('time'))
        except (OSError, ValueError, IndexError) as exc:
            raise DataError(f'{self.path}: cannot read variable {name!r} (truncated or corrupt '
                            f'file?): {exc}') from None
        arr = np.transpose(arr, [dims.index(d) for d in order])
        return self._decode(ds, arr, dtype)

    @staticmethod
    def _decode(ds, arr: np.ndarray, dtype) -> np.ndarray:
        keys = set(ds.attrs.keys())
        fill, scale, offset = (ds.attrs[k] if k in keys else None
                               for k in ('_FillValue', 'scale_factor', 'add_offset'))
        if fill is not None and not (np.issubdtype(np.asarray(fill).dtype, np.floating)
                                     and np.isnan(fill)):
            arr = arr.astype(np.float32)
            arr[arr == np.float32(fill)] = np.nan
        if scale is not None or offset is not None:
            arr = arr.astype(np.float32)
            if scale is not None:
                arr *= np.float32(scale)
            if offset is not None:
                arr += np.float32(offset)
        return arr if dtype is None else arr.astype(dtype, copy=False)


def dataset_attrs(path) -> Dict[str, str]:
    """All global attributes of a netCDF-4 file as text (for messages and tools)."""
    with NetCDFPatch(path) as f:
        return {k: f.attr(k) for k in f._f.attrs.keys()}
