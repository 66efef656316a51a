"""Record what is needed to reproduce a run in its work dir.

``ProvenanceHook`` writes, when a run starts, ``<work_dir>/provenance.json``
(``provenance_test.json`` / ``provenance_val.json`` for test / val-only runs, so evaluating a
model does not overwrite its training record; a copy also goes into the run's timestamped log
folder) and ``<work_dir>/provenance_config.py`` with the resolved config. The JSON holds: the
resolved config (as a dict) and the SHA-256 of its text, the seed actually used and the
randomness settings, the versions of python/lszoo/torch/timm/mmseg/mmengine/mmcv/numpy, the
lszoo git commit (and whether the work tree had uncommitted changes) when lszoo runs from a git
checkout, the command line, and for every dataset the run built: its type, data_root, split,
number of samples, the SHA-256 of each split file it uses and a SHA-256 over its sample list.
The same summary (without the config and the command line) goes into each checkpoint's
``meta['lszoo_provenance']``, so a published checkpoint says where it came from. Only plain
strings and numbers are stored, so the safe loader reads it.
"""
import json
import os.path as osp
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import BaseLoop
from mmseg.registry import HOOKS

from lszoo.utils.fileio import atomic_write_bytes, sha256_file, sha256_text

SPLIT_SUFFIXES = ('.txt', '.json', '.csv')
_PACKAGES = {  # module name -> distribution names to try
    'lszoo': ('lszoo', ),
    'torch': ('torch', ),
    'timm': ('timm', ),
    'mmseg': ('onedl-mmsegmentation', 'mmsegmentation'),
    'mmengine': ('onedl-mmengine', 'mmengine'),
    'mmcv': ('onedl-mmcv', 'mmcv', 'mmcv-lite'),
    'numpy': ('numpy', ),
}


def package_versions() -> dict:
    """Installed versions of the packages a run depends on (``None`` when absent)."""
    out = {'python': platform.python_version()}
    for module, dists in _PACKAGES.items():
        version = None
        for dist in dists:
            try:
                version = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
        if version is None and module in sys.modules:
            version = getattr(sys.modules[module], '__version__', None)
        out[module] = version
    return out


def git_state(path: Optional[str] = None) -> Optional[dict]:
    """``{'commit', 'dirty'}`` of the git checkout holding ``path`` (lszoo's source by default),
    or ``None`` when it is not a git checkout or git is missing."""
    if path is None:
        import lszoo
        path = osp.dirname(osp.dirname(osp.abspath(lszoo.__file__)))
    try:
        commit = subprocess.run(['git', '-C', path, 'rev-parse', 'HEAD'], capture_output=True,
                                text=True, timeout=10)
        if commit.returncode != 0:
            return None
        status = subprocess.run(['git', '-C', path, 'status', '--porcelain',
                                 '--untracked-files=no'], capture_output=True, text=True,
                                timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return dict(commit=commit.stdout.strip(), dirty=bool(status.stdout.strip()), path=path)


def _leaf_datasets(dataset):
    if hasattr(dataset, 'datasets'):  # ConcatDataset
        for sub in dataset.datasets:
            yield from _leaf_datasets(sub)
    elif hasattr(dataset, 'dataset') and not hasattr(dataset, 'data_list'):  # Repeat / Balance
        yield from _leaf_datasets(dataset.dataset)
    else:
        yield dataset


def split_files_of(dataset) -> list:
    """Split files a dataset uses: its ``split_files`` attribute when it has one, else its
    ``ann_file`` and the ``*.txt``/``*.json``/``*.csv`` split lists in its ``split_dir`` (for
    lszoo datasets, those of its ``NAME`` and ``split_seed``: the train/val/test lists it reads
    or wrote)."""
    explicit = getattr(dataset, 'split_files', None)
    if explicit is not None and not callable(explicit):
        return sorted({str(p) for p in explicit if osp.isfile(p)})
    found = set()
    ann_file = getattr(dataset, 'ann_file', None)
    if ann_file and osp.isfile(ann_file):
        found.add(str(ann_file))
    split_dir = getattr(dataset, 'split_dir', None)
    if split_dir and osp.isdir(split_dir):
        # lszoo datasets name them <NAME>_[<part>_]<split>_seed<split_seed>.txt: keep this seed's
        name, seed = getattr(dataset, 'NAME', None), getattr(dataset, 'split_seed', None)
        for p in Path(split_dir).iterdir():
            if not p.is_file() or p.suffix not in SPLIT_SUFFIXES or p.name.startswith('.'):
                continue
            if name and seed is not None and not (p.name.startswith(f'{name}_')
                                                  and p.stem.endswith(f'_seed{seed}')):
                continue
            found.add(str(p))
    return sorted(found)


def _sample_key(info: dict, data_root: Optional[str]) -> str:
    for key in ('img_path', 'scene_seed', 'sample_idx'):
        value = info.get(key)
        if value is not None:
            value = str(value)
            if data_root and key == 'img_path' and value.startswith(str(data_root)):
                value = osp.relpath(value, data_root)
            return value
    return json.dumps(info, sort_keys=True, default=repr)


def describe_dataset(dataset) -> list:
    """Provenance entries (one per leaf dataset) of a built dataset."""
    entries = []
    for ds in _leaf_datasets(dataset):
        data_root = getattr(ds, 'data_root', None) or None
        entry = dict(type=type(ds).__name__, data_root=data_root,
                     split=getattr(ds, 'split', None))
        for key in ('split_seed', 'seed'):
            if isinstance(getattr(ds, key, None), int):
                entry[key] = getattr(ds, key)
        try:
            n = len(ds)
            keys = sorted(_sample_key(dict(ds.get_data_info(i)), data_root) for i in range(n))
            entry['num_samples'] = n
            entry['samples_sha256'] = sha256_text('\n'.join(keys))
        except Exception as err:  # a dataset without get_data_info: record why
            entry['samples_error'] = f'{type(err).__name__}: {err}'
        files = {}
        for path in split_files_of(ds):
            name = osp.relpath(path, data_root) if data_root else path
            files[name] = sha256_file(path)
        entry['split_files'] = files
        entries.append(entry)
    return entries


@HOOKS.register_module()
class ProvenanceHook(Hook):
    """Write ``provenance.json`` and the resolved config into the work dir (see module doc)."""

    priority = 'VERY_LOW'

    def __init__(self, filename: str = 'provenance.json') -> None:
        self.filename = filename
        self.summary: dict = {}

    @staticmethod
    def _mode(runner) -> str:
        if isinstance(getattr(runner, '_train_loop', None), BaseLoop):
            return 'train'
        if isinstance(getattr(runner, '_test_loop', None), BaseLoop):
            return 'test'
        return 'val'

    def collect(self, runner) -> dict:
        """The provenance record of ``runner`` (config excluded)."""
        datasets = {}
        for split in ('train', 'val', 'test'):
            loop = getattr(runner, f'_{split}_loop', None)
            if isinstance(loop, BaseLoop) and hasattr(loop, 'dataloader'):
                datasets[split] = describe_dataset(loop.dataloader.dataset)
        randomness = dict(getattr(runner, '_randomness_cfg', {}) or {})
        return dict(
            created=time.strftime('%Y-%m-%dT%H:%M:%S%z'),
            mode=self._mode(runner),
            experiment_name=runner.experiment_name,
            work_dir=osp.abspath(runner.work_dir),
            seed=runner.seed,
            randomness={k: v for k, v in randomness.items() if k != 'seed'},
            versions=package_versions(),
            git=git_state(),
            command=list(sys.argv),
            load_from=getattr(runner, '_load_from', None),
            resume=bool(getattr(runner, '_resume', False)),
            datasets=datasets,
        )

    def before_run(self, runner) -> None:
        if not is_main_process():  # only rank 0 writes files and checkpoints
            return
        self.summary = self.collect(runner)
        cfg = runner.cfg
        try:
            cfg_text = cfg.pretty_text
        except Exception:  # configs holding objects yapf cannot format
            cfg_text = repr(cfg.to_dict())
        record = dict(self.summary)
        record['config_sha256'] = sha256_text(cfg_text)
        record['config'] = json.loads(json.dumps(cfg.to_dict(), default=repr))
        mode = self.summary['mode']
        name = self.filename if mode == 'train' else self.filename.replace('.json', f'_{mode}.json')
        data = json.dumps(record, indent=2, sort_keys=False, default=repr).encode()
        atomic_write_bytes(osp.join(runner.work_dir, name), data)
        if mode == 'train':
            atomic_write_bytes(osp.join(runner.work_dir, 'provenance_config.py'), cfg_text.encode())
        log_dir = getattr(runner, 'log_dir', None)
        if log_dir and osp.isdir(log_dir):
            atomic_write_bytes(osp.join(log_dir, name), data)
        runner.logger.info(f'provenance written to {osp.join(runner.work_dir, name)}')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.summary:
            meta = checkpoint.setdefault('meta', {})
            meta['lszoo_provenance'] = json.loads(json.dumps(
                {k: v for k, v in self.summary.items() if k != 'command'}, default=repr))
