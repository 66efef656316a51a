"""Shared machinery of the four landslide benchmark datasets.

:class:`LandslideBaseDataset` turns a band selection from the config into a per-sample reading
plan (which files to read, which channels to keep, which derived indices to compute) that
:class:`lszoo.datasets.transforms.LoadLandslideSample` executes, and it carries the sample
contract of ``docs/architecture.md``: ``band_names``, ``stream_layout``, masks 0/1/255.
Subclasses only list their files (``list_samples``).
"""
import re
import time
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from mmengine.logging import print_log
from mmseg.datasets import BaseSegDataset

from lszoo.errors import ConfigError, DataError
from lszoo.utils.fileio import atomic_write_text

BandSpec = Union[int, str]


def resolve_stream_layout(band_names: Sequence[str], layout, band_streams: Dict[str, str],
                          owner: str) -> 'OrderedDict[str, List[int]]':
    """Stream -> channel indices of the chosen ``band_names``: from the config's ``layout``
    (channel indices or band names), else each band in the stream ``band_streams`` gives it
    (``'optical'`` by default). ``owner`` names the dataset in messages."""
    n = len(band_names)
    out = OrderedDict()
    if layout is None:
        for i, name in enumerate(band_names):
            out.setdefault(band_streams.get(name, 'optical'), []).append(i)
        return out
    for stream, chans in dict(layout).items():
        idx = []
        for c in chans:
            if isinstance(c, str):
                if c not in band_names:
                    raise ConfigError(f'{owner}: stream_layout[{stream!r}] names band {c!r}, '
                                      f'not among the chosen bands {list(band_names)}')
                c = list(band_names).index(c)
            if not 0 <= int(c) < n:
                raise ConfigError(f'{owner}: stream_layout[{stream!r}] channel {c} is out of '
                                  f'range for {n} chosen bands {list(band_names)}')
            idx.append(int(c))
        out[stream] = idx
    return out


class LandslideBaseDataset(BaseSegDataset):
    """Base of the landslide datasets (not registered: use a concrete subclass).

    Args:
        data_root (str): Folder holding the dataset exactly as distributed.
        split (str): Split name (dataset specific: ``'train'``, ``'val'``, ``'test'``).
        bands (sequence of str | int, optional): Bands to stack, by name (see ``BANDS`` and
            ``DERIVED``) or by index into ``BANDS``. Defaults to ``DEFAULT_BANDS``.
        stream_layout (dict, optional): Stream name -> channel indices (or band names) of the
            stacked image. Defaults to grouping the chosen bands by ``BAND_STREAMS``.
        pipeline (list): Transforms; start with ``LoadLandslideSample``.
        split_seed (int): Seed of generated split files (datasets without an official split).
        split_dir (str, optional): Where split files are written / read; default
            ``<data_root>/splits``.
        mask_map (dict, optional): Raw mask value -> class (0, 1 or 255 ignored), replacing
            the dataset's documented encoding, e.g. ``{0: 0, 1: 1, 255: 1}`` for a copy whose
            masks mix 1 and 255. Any other value is still an error.
    """

    METAINFO = dict(classes=('background', 'landslide'), palette=[[0, 0, 0], [255, 0, 0]])
    #: Dataset name used in messages and split-file names.
    NAME = 'landslide'
    #: Where to download the data (quoted in the missing-data_root message).
    URL = ''
    #: Channels of the raw stack (all source files concatenated), in file order.
    BANDS: Tuple[str, ...] = ()
    #: Derived bands: name -> ('ndvi', nir_band, red_band).
    DERIVED: Dict[str, Tuple[str, str, str]] = {}
    #: Band name -> stream name, for the default stream layout.
    BAND_STREAMS: Dict[str, str] = {}
    DEFAULT_BANDS: Tuple[str, ...] = ()
    SPLITS: Tuple[str, ...] = ('train', 'val', 'test')

    def __init__(self,
                 data_root: Optional[str] = None,
                 split: str = 'train',
                 bands: Optional[Sequence[BandSpec]] = None,
                 stream_layout: Optional[Dict[str, Sequence[BandSpec]]] = None,
                 pipeline: Sequence = (),
                 split_seed: int = 42,
                 split_dir: Optional[str] = None,
                 mask_map: Optional[Dict[int, int]] = None,
                 **kwargs):
        if data_root is None or not Path(data_root).is_dir():
            raise DataError(self.missing_root_message(data_root))
        if split not in self.SPLITS:
            raise ConfigError(f'{type(self).__name__}: unknown split {split!r}; '
                              f'expected one of {self.SPLITS}')
        self.split = split
        #: where this split's sample list came from ('<split file> (<entries>)' or a folder),
        #: logged once the list is read
        self.split_sources: List[str] = []
        self.mask_map = None
        if mask_map is not None:
            self.mask_map = {int(k): int(v) for k, v in dict(mask_map).items()}
            bad = {k: v for k, v in self.mask_map.items() if v not in (0, 1, 255)}
            if bad:
                raise ConfigError(f'{type(self).__name__}: mask_map must map to 0, 1 or 255 '
                                  f'(background, landslide, ignored), got {bad}')
        self.split_seed = int(split_seed)
        self.split_dir = Path(split_dir) if split_dir else Path(data_root) / 'splits'
        self.band_index, self.band_names = self.resolve_bands(
            self.DEFAULT_BANDS if bands is None else bands)
        self.stream_layout = self.resolve_stream_layout(stream_layout)
        kwargs.setdefault('reduce_zero_label', False)
        super().__init__(data_root=str(data_root), pipeline=list(pipeline), **kwargs)

    # ------------------------------------------------------------------ messages
    @classmethod
    def missing_root_message(cls, data_root) -> str:
        return (f'{cls.__name__}: data_root {str(data_root)!r} does not exist. '
                f'Get the {cls.NAME} dataset from {cls.URL} and unpack it unchanged, then '
                f'point the config at it: `--data-root /path/to/{cls.NAME}` (tools/train.py, '
                f'tools/test.py) or edit `data_root` in configs/_base_/datasets/{cls.NAME}.py '
                f'(see docs/datasets.md).')

    # ------------------------------------------------------------------ bands
    def resolve_bands(self, bands: Sequence[BandSpec]) -> Tuple[list, List[str]]:
        """Config band list -> (reading plan entries, band names)."""
        if isinstance(bands, (str, int)):
            bands = [bands]
        if len(bands) == 0:
            raise ConfigError(f'{type(self).__name__}: `bands` is empty')
        upper = {b.upper(): i for i, b in enumerate(self.BANDS)}
        derived = {k.upper(): k for k in self.DERIVED}
        index, names = [], []
        for b in bands:
            if isinstance(b, bool) or not isinstance(b, (int, str)):
                raise ConfigError(f'{type(self).__name__}: band {b!r} must be a name or index')
            if isinstance(b, int):
                if not 0 <= b < len(self.BANDS):
                    raise ConfigError(
                        f'{type(self).__name__}: band index {b} is out of range: the '
                        f'{self.NAME} files have {len(self.BANDS)} bands (0..'
                        f'{len(self.BANDS) - 1}: {list(self.BANDS)})')
                index.append(b)
                names.append(self.BANDS[b])
            elif b.upper() in upper:
                index.append(upper[b.upper()])
                names.append(self.BANDS[upper[b.upper()]])
            elif b.upper() in derived:
                name = derived[b.upper()]
                kind, nir, red = self.DERIVED[name]
                index.append((kind, upper[nir.upper()], upper[red.upper()]))
                names.append(name)
            else:
                raise ConfigError(
                    f'{type(self).__name__}: unknown band {b!r}; {self.NAME} has '
                    f'{list(self.BANDS) + list(self.DERIVED)}')
        return index, names

    def resolve_stream_layout(self, layout) -> 'OrderedDict[str, List[int]]':
        """Stream layout from the config (indices or band names) or from ``BAND_STREAMS``."""
        return resolve_stream_layout(self.band_names, layout, self.BAND_STREAMS,
                                     type(self).__name__)

    def _needs(self, *band_names: str) -> bool:
        """Whether the chosen bands (directly or via a derived index) use any of these."""
        wanted = {self.BANDS.index(b) for b in band_names}
        for e in self.band_index:
            used = {e} if isinstance(e, int) else set(e[1:])
            if used & wanted:
                return True
        return False

    # ------------------------------------------------------------------ data list
    def common_info(self) -> dict:
        """Keys shared by every sample of this dataset (merged in ``get_data_info``)."""
        return dict(band_index=list(self.band_index), band_names=list(self.band_names),
                    stream_layout=OrderedDict((k, list(v)) for k, v in
                                              self.stream_layout.items()),
                    reduce_zero_label=False, dataset_name=self.NAME)

    def list_samples(self) -> List[dict]:
        """Per-sample dicts: ``img_path``, ``sources``, ``seg_map_path``, ... (subclasses)."""
        raise NotImplementedError

    def load_data_list(self) -> List[dict]:
        samples = self.list_samples()
        if not samples:
            where = ''
            if self.split not in ('all',) and self.split_dir.is_dir():
                where = f'; split files in {self.split_dir}'
            raise DataError(f'{type(self).__name__}: split {self.split!r} of '
                            f'{self.data_root} is empty (no image files found{where})')
        for s in samples:
            s.setdefault('seg_fields', [])
        print_log(f'{type(self).__name__}: split {self.split!r} of {self.data_root}: '
                  f'{len(samples)} samples from {", ".join(self.split_sources) or "all files"}',
                  logger='current')
        return samples

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        info.update(self.common_info())
        # an image without one valid pixel: skipped in training, mask ignored in evaluation
        info['invalid_image'] = 'skip' if self.split == 'train' and not self.test_mode \
            else 'ignore'
        if self.mask_map is not None:
            info['mask_map'] = dict(self.mask_map)
        return info

    # ------------------------------------------------------------------ splits
    def rewrite_hint(self) -> str:
        """How to regenerate this dataset's split files (quoted in messages)."""
        return (f'delete {self.split_dir}/{self.NAME}_*seed{self.split_seed}.txt and they are '
                'written again on the next run from the files now on disk (a new split: a model '
                'trained on the old one has seen some of the new val/test files), or set '
                '`split_seed` to another number')

    def split_file(self, name: str, *parts: str) -> Path:
        safe = tuple(re.sub(r'[^\w.-]+', '-', p).strip('-') for p in parts)
        stem = '_'.join((self.NAME,) + safe + (name, f'seed{self.split_seed}'))
        return self.split_dir / f'{stem}.txt'

    def write_seeded_splits(self, names: Sequence[str], make_parts, *parts: str) -> None:
        """Write the seeded split files ``names`` (entries from ``make_parts()``) when none of
        them exists yet. When some exist (hand-written or edited lists) and others are missing,
        stop with an error instead of overwriting the ones that are there."""
        paths = [self.split_file(n, *parts) for n in names]
        for _ in range(20):  # another process (a distributed rank) may be writing the set now
            present = [p for p in paths if p.is_file()]
            if not present or len(present) == len(paths):
                break
            time.sleep(0.1)
        if not present:
            for path, entries in zip(paths, make_parts()):
                self.write_split_file(path, entries)
        elif len(present) < len(paths):
            missing = [str(p) for p in paths if not p.is_file()]
            raise DataError(
                f'{type(self).__name__}: split file(s) {", ".join(missing)} missing beside '
                f'{", ".join(str(p) for p in present)}; not regenerating the set, so that '
                f'lists written or edited by hand are not overwritten. Restore the missing '
                f'file(s) (the same format: one path per line), or {self.rewrite_hint()}')

    def read_split(self, path: Path) -> List[str]:
        """:meth:`read_split_file`, noting the file and its size for the start-up log line."""
        entries = self.read_split_file(path)
        self.split_sources.append(f'{path} ({len(entries)} entries)')
        return entries

    @staticmethod
    def read_split_file(path: Path) -> List[str]:
        try:
            lines = Path(path).read_text().splitlines()
        except OSError as exc:
            raise DataError(f'{path}: cannot read split file: {exc}') from None
        return [ln.strip() for ln in lines if ln.strip() and not ln.startswith('#')]

    @staticmethod
    def write_split_file(path: Path, entries: Sequence[str]) -> None:
        """Write atomically (workers / parallel runs may race)."""
        path = Path(path)
        try:
            atomic_write_text(path, ''.join(f'{e}\n' for e in entries))
        except OSError as exc:
            raise DataError(f'{path}: cannot write split file ({exc}); set `split_dir` in the '
                            'dataset config to a writable folder') from None


class DatasetWarning(UserWarning):
    """Files on disk and the dataset's lists disagree (said once per process and folder)."""


_SAID = set()


def warn_once(key, message: str) -> None:
    """Warn ``message`` (a :class:`DatasetWarning`) once per process for ``key``: the train,
    val and test datasets of one run all list the same folder."""
    if key in _SAID:
        return
    _SAID.add(key)
    warnings.warn(message, DatasetWarning, stacklevel=3)


def _first(names, k: int = 3) -> str:
    names = sorted(names)
    more = f' and {len(names) - k} more' if len(names) > k else ''
    return ', '.join(names[:k]) + more


def warn_orphan_masks(dataset: str, mask_dir, mask_keys, image_keys) -> None:
    """Warn once when masks in ``mask_dir`` have no image (they are not used)."""
    orphans = set(mask_keys) - set(image_keys)
    if orphans:
        warn_once(('orphan', str(mask_dir)),
                  f'{dataset}: {len(orphans)} mask(s) in {mask_dir} have no image and are not '
                  f'used: {_first(orphans)}')


def check_split_files(dataset: str, split_files: Sequence[Path], on_disk: Sequence[str],
                      rewrite: str, compare=None) -> None:
    """Compare the entries of a dataset's split files with the files on disk.

    An entry without its file is a :class:`DataError` (whatever split is being built: found at
    dataset init, not when the sample is first read); files on disk that no split file lists
    (added after the split files were written) are never used: warned once with the counts.
    ``rewrite`` says how to regenerate the split files; ``compare(entry)`` (optional) says
    which entries to compare (e.g. not those of a class the config drops).
    """
    listed = {}
    for path in split_files:
        if Path(path).is_file():
            for entry in LandslideBaseDataset.read_split_file(path):
                if compare is None or compare(entry):
                    listed.setdefault(entry, path)
    disk = set(on_disk)
    missing = [e for e in listed if e not in disk]
    if missing:
        where = sorted({str(listed[e]) for e in missing})
        raise DataError(f'{dataset}: {len(missing)} entr{"y" if len(missing) == 1 else "ies"} '
                        f'of the split files {where} have no file on disk: {_first(missing)}. '
                        f'Restore the files, or rewrite the splits: {rewrite}')
    unlisted = disk - set(listed)
    if listed and unlisted:
        warn_once(('unlisted',) + tuple(sorted(map(str, split_files))),
                  f'{dataset}: {len(unlisted)} of {len(disk)} files on disk are in no split file '
                  f'({len(listed)} listed) and are never used, e.g. {_first(unlisted)}. '
                  f'To use them, rewrite the splits: {rewrite}')


def seeded_split(groups: Sequence[Sequence[str]], fractions: Sequence[float],
                 seed: int) -> List[List[str]]:
    """Split each group (e.g. class) by ``fractions`` with ONE seeded torch generator.

    Mirrors ``torch.utils.data.random_split`` with lengths ``int(f * n)`` for all parts but the
    last (which takes the remainder), run on each group in turn with the same generator, as in
    DiGATe-UNet's Bijie split (770/2003 images -> 1941/554/278). Items are sorted first so the
    split does not depend on the file system's listing order.
    """
    import torch
    gen = torch.Generator().manual_seed(int(seed))
    parts: List[List[str]] = [[] for _ in fractions]
    for group in groups:
        items = sorted(group)
        n = len(items)
        lengths = [int(f * n) for f in fractions[:-1]]
        lengths.append(n - sum(lengths))
        perm = torch.randperm(n, generator=gen).tolist()
        start = 0
        for k, length in enumerate(lengths):
            parts[k].extend(items[i] for i in perm[start:start + length])
            start += length
    return parts
