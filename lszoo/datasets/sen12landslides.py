"""Sen12Landslides (Sentinel-1 + Sentinel-2 + DEM time series, NetCDF), read as distributed.

Facts about the files, and where each comes from (paths in github.com/PaulH97/Sen12Landslides,
commit 5b313f2; "files" means the distributed data, which could not be downloaded here):

* Layout ``data/data_<version>/<sensor>/<region>_<sensor>_<id>.nc``, ``version`` ``harmonized``
  (recommended) or ``raw``, ``sensor`` ``s1asc``, ``s1dsc``, ``s2``; splits and statistics in
  ``tasks/<task>/<version>/<sensor>/{splits,norm}.json`` and, for patches present for all three
  sensors, ``tasks/<task>/<version>/{splits,norm}_aligned.json`` (``README.md``, "Data Structure"
  and "Multi-Modal Files"; ``src/data/datamodule.py`` builds exactly these paths).
* ``splits.json``: ``{"train"|"val"|"test": [{"id", "<sensor>": "<sensor>/<file>.nc", ...}]}``,
  paths relative to ``data/data_<version>`` (``tasks/*/splits.json``,
  ``src/data/create_splits.py::create_splits_json``). ``norm.json``:
  ``{"<sensor>": {"mean": {band: v}, "std": {band: v}}}`` over the training files, DEM included
  (``tasks/*/norm.json``, ``create_norm_json``); used as ``(x - mean) / std``
  (``src/data/transforms.py::Normalize``).
* Variables ``B02 B03 B04 B05 B06 B07 B08 B8A B11 B12`` (int16 DN), ``SCL`` (int16) for S2,
  ``VV VH`` (float32) for S1, ``DEM`` (int16, metres, repeated at every date), ``MASK`` (uint8)
  over ``time`` (15 steps, sorted) and space (``README.md`` "Patch Format";
  ``src/preprocess/modules/patch_module.py::build_and_save_xarray_dataset``). Axis order is NOT
  settled by the sources: the README's ``xarray`` print shows ``(time, x, y)``, the writer
  ``(time, y, x)``. The reader therefore takes the order from each file's netCDF dimension names
  and returns ``(time, y, x)`` (rows = ``y``), as the authors' loader does
  (``src/data/datasets.py`` ``transpose(..., "y", "x")``).
* Attributes are text (``patch_module.py``): ``event_date`` comma-joined dates,
  ``pre_post_dates`` comma-joined dicts such as ``{'pre': 7, 'post': 8}`` (one per event: the
  last date before and the first date on/after it; ``{'pre': 0, 'post': 0}`` when the event
  precedes the series), ``annotated`` ``"True"``/``"False"``, ``crs`` ``"EPSG:32632"``.
* ``MASK`` is the inventory's polygons rasterised (``all_touched=True``) with each date's
  transform, the same at every date (``process_patch``): it marks the scars visible after the
  event. lszoo takes it at the first post-event date (see :func:`select_dates`), the authors'
  loader at date 0 (the same array).
* Harmonised values: S1 in dB bounded to [-50, 10], S2 offset-corrected in [0, 10000], DEM in
  [0, 8800] (``README.md`` "Harmonized"; ``transforms.py`` clip ranges); raw S1 is linear power,
  converted by ``10 log10(max(x, 1e-6))`` (``src/utils/helpers.py::postprocess_s1_dataset``).
* SCL classes treated as bad by the authors: 0, 1, 2, 3, 8, 9, 10, 11 (``patch_module.py``
  ``compute_bad_pixel_ratio_s2``); lszoo's default cloud/shadow mask is this list.

Licence CC BY 4.0 (``README.md``). Paper: Scientific Data (2025),
https://www.nature.com/articles/s41597-025-06167-2 (the README's link).
"""
import ast
import json
import re
from collections import OrderedDict
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from mmseg.registry import DATASETS

from lszoo.errors import ConfigError, DataError
from .base import LandslideBaseDataset

SENSORS = ('s2', 's1asc', 's1dsc')
SENSOR_BANDS = {
    's2': ('B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B11', 'B12'),
    's1asc': ('VV', 'VH'),
    's1dsc': ('VV', 'VH'),
}
DATE_MODES = ('all', 'pre_post', 'post', 'composite')
SCL_BAD = (0, 1, 2, 3, 8, 9, 10, 11)
SAR_DB_RANGE = (-50.0, 10.0)
S2_RANGE = (0.0, 10000.0)
DEM_RANGE = (0.0, 8800.0)
N_DATES = 15


def parse_pre_post(text: Optional[str], path) -> Optional[Tuple[int, int]]:
    """``pre_post_dates`` -> (last pre index, first post index) over all events, or None.

    Several events: the last date before the *earliest* event and the first date after the
    *latest* one, so that every scar of the mask exists at the post date.
    """
    if text is None or not text.strip():
        return None
    pairs = re.findall(r'\{[^{}]*\}', text)
    pre, post = [], []
    for p in pairs:
        try:
            d = ast.literal_eval(p)
            pre.append(int(d['pre']))
            post.append(int(d['post']))
        except (ValueError, SyntaxError, KeyError, TypeError):
            raise DataError(f'{path}: attribute pre_post_dates {text!r} is not a list of '
                            "{'pre': i, 'post': j}") from None
    if not pairs:
        raise DataError(f'{path}: attribute pre_post_dates {text!r} is not a list of '
                        "{'pre': i, 'post': j}")
    return min(pre), max(post)


def select_dates(mode: str, n: int, pre_post, path, window: Optional[int] = None,
                 no_event_post: Optional[int] = None) -> 'OrderedDict[str, List[int]]':
    """Date groups of one file: group name -> time indices (composited when several).

    ``all``: ``t00 .. t14``; ``post``: the first post-event date; ``pre_post``: the last pre and
    the first post date; ``composite``: all pre dates and all post dates (or the ``window``
    nearest each side). The mask is read at the first post date (``mask_index``).
    """
    if pre_post is None:
        if no_event_post is None:
            if mode == 'all':
                return OrderedDict((f't{i:02d}', [i]) for i in range(n))
            raise DataError(f'{path}: no pre_post_dates (not annotated), needed by '
                            f"dates={mode!r}; set `no_event_post` to a date index to use")
        pre_post = (no_event_post - 1, no_event_post)
    pre, post = pre_post
    if not 0 <= post < n or not -1 <= pre < n:
        raise DataError(f'{path}: pre_post_dates {pre_post} out of range for {n} dates')
    if mode == 'all':
        return OrderedDict((f't{i:02d}', [i]) for i in range(n))
    if mode == 'post':
        return OrderedDict(post=[post])
    if pre < 0 or pre >= post:
        raise DataError(f'{path}: no date before the event (pre_post_dates pre={pre}, '
                        f'post={post}); dates={mode!r} needs one (use dates="post" or "all")')
    if mode == 'pre_post':
        return OrderedDict(pre=[pre], post=[post])
    pre_idx, post_idx = list(range(0, pre + 1)), list(range(post, n))
    if window is not None:
        pre_idx, post_idx = pre_idx[-window:], post_idx[:window]
    return OrderedDict(pre=pre_idx, post=post_idx)


def mask_index(pre_post, no_event_post: Optional[int] = None) -> int:
    """Date whose MASK is the label: the first post-event date (0 without an event)."""
    if pre_post is not None:
        return pre_post[1]
    return 0 if no_event_post is None else no_event_post


def read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise DataError(f'{path}: {what} not found (get tasks/ from '
                        'github.com/PaulH97/Sen12Landslides)') from None
    except (OSError, ValueError) as exc:
        raise DataError(f'{path}: unreadable {what}: {exc}') from None


@DATASETS.register_module()
class Sen12LandslidesDataset(LandslideBaseDataset):
    """Sen12Landslides patches (128x128, 10 m, 15 dates) with the authors' splits and statistics.

    Args:
        data_root (str): the Sen12Landslides folder holding ``data/`` and ``tasks/``.
        split (str): ``'train'``, ``'val'`` or ``'test'`` of the task's ``splits.json``.
        task (str): ``'S12LS-LD'`` (annotated patches) or ``'S12LS-AD'``.
        version (str): ``'harmonized'`` or ``'raw'``.
        sensors (sequence of str): one of :data:`SENSORS`, or several (aligned files:
            ``splits_aligned.json`` + ``norm_aligned.json``). Time index ``t`` pairs the ``t``-th
            acquisition of each sensor (not simultaneous).
        bands (dict | sequence, optional): bands by name per sensor (a plain list for one
            sensor); default all (:data:`SENSOR_BANDS`).
        dem (bool): append the DEM as one channel (stream ``'dem'``).
        dates (str): :data:`DATE_MODES`, see :func:`select_dates`.
        composite_window (int, optional): dates each side of the event for ``'composite'``.
        composite (str): ``'median'`` or ``'mean'`` over the valid (not cloud-masked) values.
        scl_mask (sequence of int, optional): SCL classes blanked in S2 before compositing and
            normalisation (filled with the band mean by :class:`Sen12Normalize`); None: off.
        sar_db (bool): S1 in dB clipped to [-50, 10] (the harmonised convention); with
            ``version='raw'`` linear power is converted, which needs a dB ``norm_file``.
        clip (bool): clip S2 to [0, 10000] and DEM to [0, 8800] (no-op on harmonised files).
        stream_by_sensor (bool): stream names ``'<sensor>_<group>'`` instead of ``'<group>'``.
        no_event_post (int, optional): post index for patches without ``pre_post_dates``.
        norm_file / splits_file (str, optional): replace the task's json files.

    Streams: ``series`` (``dates='all'``: date-major, each date all sensors' bands), ``pre`` and
    ``post`` (other modes), ``dem``. Channel names ``'<sensor>.<band>@<group>'`` and ``'DEM'``.
    """

    NAME = 'sen12landslides'
    URL = ('https://huggingface.co/datasets/paulhoehn/Sen12Landslides (data) and '
           'https://github.com/PaulH97/Sen12Landslides (tasks/)')

    def __init__(self, data_root: Optional[str] = None, *args, task: str = 'S12LS-LD',
                 version: str = 'harmonized',
                 sensors: Sequence[str] = ('s2',), dem: bool = True, dates: str = 'all',
                 composite_window: Optional[int] = None, composite: str = 'median',
                 scl_mask: Optional[Sequence[int]] = SCL_BAD, sar_db: bool = True,
                 clip: bool = True, stream_by_sensor: bool = False,
                 no_event_post: Optional[int] = None, norm_file: Optional[str] = None,
                 splits_file: Optional[str] = None, n_dates: int = N_DATES, **kwargs):
        sensors = (sensors,) if isinstance(sensors, str) else tuple(sensors)
        bad = [s for s in sensors if s not in SENSORS]
        if not sensors or bad or len(set(sensors)) != len(sensors):
            raise ConfigError(f'Sen12LandslidesDataset: sensors {sensors!r} must be distinct '
                              f'names from {SENSORS}')
        if dates not in DATE_MODES:
            raise ConfigError(f'Sen12LandslidesDataset: dates={dates!r}; choose {DATE_MODES}')
        if composite not in ('median', 'mean'):
            raise ConfigError(f"Sen12LandslidesDataset: composite={composite!r}; "
                              "choose 'median' or 'mean'")
        if version not in ('harmonized', 'raw'):
            raise ConfigError(f"Sen12LandslidesDataset: version={version!r}; choose "
                              "'harmonized' or 'raw'")
        if version == 'raw' and sar_db and norm_file is None and \
                any(s.startswith('s1') for s in sensors):
            raise ConfigError("Sen12LandslidesDataset: version='raw' with sar_db=True converts "
                              'S1 to dB, but the raw norm.json holds linear-power statistics; '
                              "give a dB `norm_file` (e.g. the harmonized one) or sar_db=False")
        self.task, self.version, self.sensors = task, version, sensors
        self.dem, self.dates, self.composite = bool(dem), dates, composite
        self.composite_window = composite_window
        self.scl_mask = None if scl_mask is None else tuple(int(c) for c in scl_mask)
        self.sar_db, self.clip, self.stream_by_sensor = bool(sar_db), bool(clip), \
            bool(stream_by_sensor)
        self.no_event_post, self.n_dates = no_event_post, int(n_dates)
        self._norm_file, self._splits_file = norm_file, splits_file
        self.sensor_bands = self._sensor_bands(kwargs.pop('bands', None))
        super().__init__(data_root, *args, bands=list(self.sensor_bands), **kwargs)

    # ------------------------------------------------------------------ bands and streams
    def _sensor_bands(self, bands) -> 'OrderedDict[str, Tuple[str, ...]]':
        if bands is None:
            bands = {s: SENSOR_BANDS[s] for s in self.sensors}
        elif not isinstance(bands, dict):
            if len(self.sensors) != 1:
                raise ConfigError('Sen12LandslidesDataset: with several sensors give `bands` '
                                  'as a dict sensor -> band names')
            bands = {self.sensors[0]: bands}
        out = OrderedDict()
        for s in self.sensors:
            chosen = tuple(bands.get(s, ()))
            unknown = [b for b in chosen if b not in SENSOR_BANDS[s]]
            if not chosen or unknown:
                raise ConfigError(f'Sen12LandslidesDataset: bands for {s} must be a non-empty '
                                  f'selection of {SENSOR_BANDS[s]}, got {chosen}')
            out[s] = chosen
        extra = set(bands) - set(self.sensors)
        if extra:
            raise ConfigError(f'Sen12LandslidesDataset: bands given for {sorted(extra)}, not '
                              f'among sensors {self.sensors}')
        return out

    def groups(self) -> List[str]:
        """Date group names in channel order."""
        if self.dates == 'all':
            return [f't{i:02d}' for i in range(self.n_dates)]
        return ['post'] if self.dates == 'post' else ['pre', 'post']

    def resolve_bands(self, bands):
        names = [f'{s}.{b}@{g}' for g in self.groups() for s, bs in self.sensor_bands.items()
                 for b in bs]
        if self.dem:
            names.append('DEM')
        return list(range(len(names))), names

    def resolve_stream_layout(self, layout):
        if layout is not None:
            return super().resolve_stream_layout(layout)
        out = OrderedDict()
        for i, name in enumerate(self.band_names):
            if name == 'DEM':
                key = 'dem'
            else:
                sensor, _, group = name.replace('.', '@').split('@')
                group = 'series' if self.dates == 'all' else group
                key = f'{sensor}_{group}' if self.stream_by_sensor else group
            out.setdefault(key, []).append(i)
        return out

    # ------------------------------------------------------------------ files
    @property
    def tasks_dir(self) -> Path:
        return Path(self.data_root) / 'tasks' / self.task / self.version

    def json_path(self, kind: str) -> Path:
        given = self._norm_file if kind == 'norm' else self._splits_file
        if given:
            return Path(given)
        if len(self.sensors) == 1:
            return self.tasks_dir / self.sensors[0] / f'{kind}.json'
        return self.tasks_dir / f'{kind}_aligned.json'

    def norm_stats(self) -> Tuple[List[float], List[float]]:
        """Per-channel mean and std from ``norm.json`` (verbatim, by sensor and band name)."""
        path = self.json_path('norm')
        stats = read_json(path, 'normalisation file')
        mean, std = [], []
        for name in self.band_names:
            sensor, band = (self.sensors[0], 'DEM') if name == 'DEM' else \
                name.split('@')[0].split('.')
            try:
                mean.append(float(stats[sensor]['mean'][band]))
                std.append(float(stats[sensor]['std'][band]))
            except (KeyError, TypeError, ValueError):
                raise DataError(f'{path}: no mean/std for {sensor} band {band}') from None
        return mean, std

    def list_samples(self) -> List[dict]:
        path = self.json_path('splits')
        splits = read_json(path, 'split file')
        if not isinstance(splits, dict) or self.split not in splits:
            raise DataError(f'{path}: no split {self.split!r} (has {sorted(splits)})')
        entries = splits[self.split]
        self.split_sources.append(f'{path} ({len(entries)} entries)')
        data_dir = Path(self.data_root) / 'data' / f'data_{self.version}'
        mean, std = self.norm_stats()
        samples, missing = [], []
        for e in entries:
            lacking = [s for s in self.sensors if s not in e]
            if lacking:
                raise DataError(f'{path}: entry {e.get("id")!r} has no file for {lacking}')
            files = OrderedDict((s, str(data_dir / e[s])) for s in self.sensors)
            missing += [f for f in files.values() if not Path(f).is_file()]
            samples.append(dict(
                img_path=files[self.sensors[0]], seg_map_path=files[self.sensors[0]],
                files=files, sample_id=e.get('id'), sensor_bands=dict(self.sensor_bands),
                dem=self.dem, dates=self.dates, n_dates=self.n_dates,
                composite=self.composite, composite_window=self.composite_window,
                scl_mask=self.scl_mask, sar_db=self.sar_db, sar_linear=self.version == 'raw',
                clip=self.clip, no_event_post=self.no_event_post, norm_mean=mean,
                norm_std=std))
        if missing:
            raise DataError(f'Sen12LandslidesDataset: {len(missing)} file(s) listed in {path} '
                            f'are missing, e.g. {missing[0]}')
        return samples
