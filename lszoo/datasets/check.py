"""Dataset checks: a cheap one before training and a full one that opens every file.

A corrupt file in the validation split would otherwise be found at the first validation, after hours
of training. :func:`check_listed_files` (``tools/train.py`` calls it before training) only lists
every file of every dataloader's dataset (train, val, test) and checks that it exists and is not
empty: one ``stat`` per file. :func:`check_datasets` (``tools/analysis_tools/check_dataset.py``)
reads every file the way :class:`~lszoo.datasets.transforms.LoadLandslideSample` does and reports,
per split: files, problems by kind with the first few names, dtypes, band counts, shapes, mask
values and the share of NaN/nodata pixels. The datasets are built with an empty pipeline, so no
augmentation runs. A dataset of windows of whole scenes (``InventoryDataset``) is checked by its
files instead: each scene and its DEM read block by block (:mod:`.check_scenes`).
"""
import copy
import os
import sys
import warnings
from collections import Counter, OrderedDict, defaultdict
from typing import List, Optional, Sequence, Tuple

import numpy as np

from lszoo.errors import DataError
from lszoo.utils.config import leaf_datasets

LOADERS = OrderedDict(train='train_dataloader', val='val_dataloader', test='test_dataloader')
#: Problem kinds, in report order.
KINDS = ('missing', 'empty', 'unreadable', 'format', 'size', 'mask', 'all_invalid')


def dataset_configs(cfg, splits: Optional[Sequence[str]] = None) -> List[Tuple[str, dict]]:
    """``(label, dataset config)`` of every dataloader's dataset; wrappers (``ConcatDataset``,
    ``RepeatDataset``, ...) are unwrapped to the datasets that list files. A dataset config
    repeated in several loaders (val = test) is listed once, under the first loader."""
    out, seen = [], []
    for split, key in LOADERS.items():
        if splits and split not in splits:
            continue
        loader = cfg.get(key)
        if not loader or not loader.get('dataset'):
            continue
        leaves = list(leaf_datasets(loader['dataset'], ''))
        for i, (_, ds) in enumerate(leaves):
            label = split if len(leaves) == 1 else f'{split}[{i}]'
            plain = copy.deepcopy(dict(ds))
            plain.pop('pipeline', None)
            if plain in seen:
                continue
            seen.append(plain)
            out.append((label, ds))
    return out


def build_dataset(ds_cfg: dict):
    """Build a dataset config with an empty pipeline (only its file list is needed)."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    init_default_scope('mmseg')
    ds_cfg = copy.deepcopy(dict(ds_cfg))
    ds_cfg['pipeline'] = []
    ds_cfg.pop('lazy_init', None)
    return DATASETS.build(ds_cfg)


def sample_files(info: dict) -> List[Tuple[str, str]]:
    """``(path, role)`` of every file a sample reads (its sources and its mask)."""
    files = [(s['path'], s.get('role', 'image')) for s in info.get('sources', [])]
    if not files and info.get('img_path'):  # a plain mmseg dataset: one image file
        files.append((info['img_path'], 'image'))
    if info.get('seg_map_path'):
        files.append((info['seg_map_path'], 'mask'))
    return [(p, r) for p, r in files if '://' not in str(p)]  # not local files (synthetic://)


def _file_problem(path: str) -> Optional[Tuple[str, str]]:
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        return 'missing', f'{path}: listed but missing'
    except OSError as exc:
        return 'unreadable', f'{path}: cannot stat ({exc.strerror})'
    if size == 0:
        return 'empty', f'{path}: empty (0 bytes)'
    return None


def check_listed_files(cfg, splits: Optional[Sequence[str]] = None) -> int:
    """Raise :class:`DataError` unless every file of every dataloader's dataset exists and is
    not empty; returns the number of files checked. Cheap: one ``stat`` per file, no reading."""
    bad, n = [], 0
    for label, ds_cfg in dataset_configs(cfg, splits):
        ds = build_dataset(ds_cfg)
        for i in range(len(ds)):
            for path, _ in sample_files(ds.get_data_info(i)):
                n += 1
                problem = _file_problem(path)
                if problem:
                    bad.append(f'{label}: {problem[1]}')
    if bad:
        more = f' (and {len(bad) - 3} more)' if len(bad) > 3 else ''
        raise DataError(f'{len(bad)} listed dataset file(s) are missing or empty: '
                        f'{"; ".join(bad[:3])}{more}. Run `python '
                        'tools/analysis_tools/check_dataset.py CONFIG` for a full check')
    return n


def _invalid_share(arr: np.ndarray, nodata) -> float:
    if arr.dtype.kind != 'f' and nodata is None:
        return 0.0
    bad = ~np.isfinite(arr) if arr.dtype.kind == 'f' else np.zeros(arr.shape, bool)
    if nodata is not None and not (isinstance(nodata, float) and np.isnan(nodata)):
        bad |= arr == nodata
    return float(bad.mean()) if bad.size else 0.0


def check_sample(info: dict, loader=None) -> dict:
    """Read every file of one sample; returns ``problems`` ([(kind, message)]), ``nan_share``
    (share of NaN/nodata values in its image), ``dtypes``, ``bands``, ``shape`` and
    ``mask_values`` (raw values found in the mask)."""
    from lszoo.datasets.io import (check_same_size, map_mask, read_h5, read_raster,
                                   single_band)
    from lszoo.datasets.transforms import LoadLandslideSample
    loader = loader or LoadLandslideSample()
    out = dict(problems=[], nan_share=0.0, dtypes=set(), bands=[], shape=None,
               mask_values=set())
    for path, _ in sample_files(info):
        problem = _file_problem(path)
        if problem:
            out['problems'].append(problem)
    if out['problems']:
        return out
    first = None
    for src in info.get('sources', []):
        try:
            if src['kind'] == 'h5':
                raw, meta = read_h5(src['path'], src.get('key', 'img')), {}
            else:
                raw, meta = read_raster(src['path'])
        except DataError as exc:
            out['problems'].append(('unreadable', str(exc)))
            return out
        out['dtypes'].add(str(raw.dtype))
        out['bands'].append(raw.shape[2] if raw.ndim == 3 else 1)
        try:
            arr = loader.conform(raw, meta, src)
            if first is None:
                first = (src['path'], arr.shape)
                out['shape'] = tuple(arr.shape[:2])
            else:
                check_same_size(first[1], arr.shape, first[0], src['path'],
                                what=src.get('role', 'band file'))
        except DataError as exc:
            kind = 'size' if 'size' in str(exc) and 'differs' in str(exc) else 'format'
            out['problems'].append((kind, str(exc)))
            return out
        if src.get('role', 'image') == 'image':
            share = _invalid_share(arr, meta.get('nodata'))
            out['nan_share'] = share
            if share == 1.0:
                out['problems'].append(('all_invalid', f'{src["path"]}: every pixel is '
                                        'NaN/inf/nodata'))
    seg = info.get('seg_map_path')
    if seg and first is not None:
        try:
            mask = (read_h5(seg, info.get('mask_key', 'mask')) if info.get('mask_kind') == 'h5'
                    else read_raster(seg)[0])
        except DataError as exc:
            out['problems'].append(('unreadable', str(exc)))
            return out
        try:
            mask = single_band(mask, seg, 'mask')
            check_same_size(first[1], mask.shape, first[0], seg, what='mask')
            out['mask_values'] = set(np.unique(mask).tolist()[:16])
            map_mask(mask, info.get('mask_map', {0: 0, 1: 1}), seg)
        except DataError as exc:
            kind = 'size' if 'differs' in str(exc) else 'mask'
            out['problems'].append((kind, str(exc)))
    return out


def check_datasets(cfg, splits: Optional[Sequence[str]] = None, progress: bool = True,
                   first: int = 3) -> List[dict]:
    """Open every file of every split of ``cfg``'s dataloaders; one report dict per dataset.

    Each report: ``label``, ``type``, ``samples``, ``files``, ``problems`` (kind -> count),
    ``examples`` (kind -> first ``first`` messages), ``dtypes``, ``bands``, ``shapes``,
    ``mask_values``, ``nan_files`` (images with any NaN/nodata) and ``max_nan_share``.
    """
    from lszoo.datasets.transforms import LoadLandslideSample
    reports, scene_cache = [], {}
    for label, ds_cfg in dataset_configs(cfg, splits):
        ds = build_dataset(ds_cfg)
        rep = dict(label=label, type=ds_cfg.get('type'), samples=len(ds), files=0,
                   problems=Counter(), examples=defaultdict(list), dtypes=Counter(),
                   bands=Counter(), shapes=Counter(), mask_values=set(), nan_files=0,
                   max_nan_share=0.0)
        if getattr(ds, 'scenes', None) is not None:  # windows of whole scenes
            _scene_report(ds, rep, scene_cache, first, progress)
            reports.append(rep)
            continue
        loader = LoadLandslideSample()
        bar = None
        if progress and len(ds):
            from mmengine.utils import ProgressBar
            print(f'{label}: {ds_cfg.get("type")} ({len(ds)} samples)', file=sys.stderr)
            bar = ProgressBar(len(ds), file=sys.stderr)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # the alpha note etc. are counted, not printed
            for i in range(len(ds)):
                info = ds.get_data_info(i)
                rep['files'] += len(sample_files(info))
                res = check_sample(info, loader)
                for kind, msg in res['problems']:
                    rep['problems'][kind] += 1
                    if len(rep['examples'][kind]) < first:
                        rep['examples'][kind].append(msg)
                rep['dtypes'].update(res['dtypes'])
                if res['bands']:
                    rep['bands'][tuple(res['bands'])] += 1
                if res['shape']:
                    rep['shapes'][res['shape']] += 1
                rep['mask_values'] |= res['mask_values']
                if res['nan_share'] > 0:
                    rep['nan_files'] += 1
                    rep['max_nan_share'] = max(rep['max_nan_share'], res['nan_share'])
                if bar is not None:
                    bar.update()
        if bar is not None:
            print(file=sys.stderr)
        reports.append(rep)
    return reports


def _scene_report(ds, rep: dict, cache: dict, first: int, progress: bool) -> None:
    """Fill ``rep`` for a dataset of scene windows: files are its scenes (and DEM), each read
    block by block once (:mod:`.check_scenes`); samples are its windows."""
    from .check_scenes import check_scene_files, scene_files
    files = scene_files(ds)
    if progress:
        print(f'{rep["label"]}: {rep["type"]} ({len(ds)} windows of {len(files)} file(s)), '
              'reading every block', file=sys.stderr)
    rep['files'] = len(files)
    for kind, msg in check_scene_files(ds, cache):
        rep['problems'][kind] += 1
        if len(rep['examples'][kind]) < first:
            rep['examples'][kind].append(msg)
    for s in ds.scenes:
        rep['bands'][(s['count'], )] += 1
        rep['shapes'][(s['height'], s['width'])] += 1


def _fmt_counter(counter: Counter, k: int = 3) -> str:
    items = [(key, n) for key, n in counter.most_common() if n]
    text = ', '.join(f'{key} x{n}' for key, n in items[:k])
    return text + (f', ... ({len(items)} kinds)' if len(items) > k else '') or '-'


def format_report(reports: List[dict]) -> str:
    """The summary table printed by ``tools/analysis_tools/check_dataset.py``."""
    head = ('split', 'dataset', 'samples', 'files', 'problems', 'dtypes', 'bands',
            'NaN files (max share)')
    rows = []
    for r in reports:
        probs = ', '.join(f'{k} {r["problems"][k]}' for k in KINDS if r['problems'][k]) or '0'
        bands = _fmt_counter(Counter({'+'.join(map(str, k)): v for k, v in r['bands'].items()}))
        nan = f'{r["nan_files"]} ({r["max_nan_share"]:.1%})' if r['nan_files'] else '0'
        rows.append((r['label'], str(r['type']), str(r['samples']), str(r['files']), probs,
                     ', '.join(sorted(r['dtypes'])) or '-', bands, nan))
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]
    lines = ['  '.join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
             for row in [head] + rows]
    for r in reports:
        for kind in KINDS:
            for msg in r['examples'].get(kind, []):
                lines.append(f'{r["label"]}: {kind}: {msg}')
            extra = r['problems'][kind] - len(r['examples'].get(kind, []))
            if extra > 0:
                lines.append(f'{r["label"]}: {kind}: ... and {extra} more')
        if r['samples'] and not r['files']:
            lines.append(f'{r["label"]}: {r["type"]} holds its samples in memory: no files')
    return '\n'.join(lines)


def problem_count(reports: List[dict]) -> int:
    """Total number of problems in ``reports``."""
    return sum(sum(r['problems'].values()) for r in reports)


__all__ = ['check_listed_files', 'check_datasets', 'check_sample', 'dataset_configs',
           'format_report', 'leaf_datasets', 'problem_count']
