"""``--data-root``: point every dataset of a run at one folder, and notice loaders that disagree.

A dataset base sets ``data_root`` in three loader dicts (train, val, test), possibly nested in
``ConcatDataset`` / ``RepeatDataset`` wrappers, so pointing a config at data took three
``--cfg-options``. :func:`apply_data_root` sets them all. :func:`mixed_data_roots` finds loaders
that read the same dataset type from different folders: the usual cause is a child config that
changes ``val_dataloader`` while its base's ``test_dataloader = val_dataloader`` (a copy made when
the base is read) keeps the base's folder. Loaders of different dataset types (zero-shot configs:
train on CAS, test on Bijie) read different folders by design and are not reported; a config
that means to read one dataset type from several folders says so with ``mixed_data_roots = True``.
"""
import logging
import os.path as osp
from collections import OrderedDict
from typing import List, Optional, Sequence, Tuple

from mmengine.logging import print_log

from lszoo.errors import ConfigError, DataError
from lszoo.utils.config import loader_datasets

iter_datasets = loader_datasets  # the name tools and tests have used

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _file_datasets(cfg, loaders: Sequence[str]) -> List[Tuple[str, dict]]:
    """Leaf datasets that read files (those with a ``data_root`` key)."""
    return [(key, ds) for loader in loaders for key, ds in loader_datasets(cfg, loader)
            if 'data_root' in ds]


def apply_data_root(cfg, root: str, loaders: Sequence[str] = LOADERS,
                    config_path: Optional[str] = None) -> List[str]:
    """Set ``data_root`` of every file-reading dataset of ``loaders`` to ``root``.

    The other loaders that read the same dataset type follow too, so the config saved with the
    run stays consistent; loaders of another dataset type (a zero-shot config's test data) keep
    their folder. The datasets of ``loaders`` must all be of one type: one folder cannot hold
    two datasets. Returns the keys set; logs one line saying so.
    """
    where = f' in {config_path}' if config_path else ''
    folder = osp.abspath(osp.expanduser(str(root)))
    if not osp.isdir(folder):
        raise DataError(f'--data-root {root}: no such folder')
    used = _file_datasets(cfg, loaders)
    if not used:
        raise ConfigError(f'--data-root {root}: no dataset of {", ".join(loaders)}{where} reads '
                          f'files (no data_root key); nothing to point at the folder')
    types = OrderedDict()
    for key, ds in used:
        types.setdefault(str(ds.get('type')), []).append(key)
    if len(types) > 1:
        listing = '; '.join(f'{t}: {", ".join(keys)}' for t, keys in types.items())
        raise ConfigError(f'--data-root {root}: the loaders{where} read different datasets '
                          f'({listing}); one folder cannot hold them: set each with '
                          f'--cfg-options <key>.data_root=PATH')
    targets = [(key, ds) for key, ds in _file_datasets(cfg, LOADERS)
               if str(ds.get('type')) in types]
    for _, ds in targets:
        ds['data_root'] = folder
    if 'data_root' in cfg:
        cfg.data_root = folder
    keys = [key for key, _ in targets]
    print_log(f'lszoo: data root {folder} for {", ".join(keys)}', logger='current',
              level=logging.INFO)
    return keys


def mixed_data_roots(cfg) -> List[str]:
    """One message per dataset type that the loaders read from more than one folder (unless the
    config sets ``mixed_data_roots = True``)."""
    if cfg.get('mixed_data_roots', False):
        return []
    by_type = OrderedDict()
    for key, ds in _file_datasets(cfg, LOADERS):
        roots = by_type.setdefault(str(ds.get('type')), OrderedDict())
        roots.setdefault(str(ds.get('data_root')), []).append(key)
    messages = []
    for dtype, roots in by_type.items():
        if len(roots) < 2:
            continue
        listing = '; '.join(f'{", ".join(keys)}: {root!r}' for root, keys in roots.items())
        messages.append(
            f'the loaders read {dtype} from different folders ({listing}). A base\'s '
            f'`test_dataloader = val_dataloader` is a copy: a child config that changes one '
            f'loader must change the other too. Use --data-root PATH to set all, or set '
            f'mixed_data_roots = True in the config if this is intended.')
    return messages


def warn_mixed_data_roots(cfg, config_path: Optional[str] = None) -> List[str]:
    """Log :func:`mixed_data_roots`' messages as warnings (preflight); returns them."""
    messages = mixed_data_roots(cfg)
    where = f'{config_path}: ' if config_path else ''
    for msg in messages:
        print_log(f'lszoo: warning: {where}{msg}', logger='current', level=logging.WARNING)
    return messages


def apply_data_options(cfg, args, loaders: Sequence[str],
                       config_path: Optional[str] = None) -> None:
    """What a tool does with the data options once the config (with ``--cfg-options``) is
    loaded, before its preflight: ``--data-root``, a demo config's synthetic data written where
    it is missing (not under a ``--data-root`` the user named), the ``crop_size`` (an explicit
    ``--cfg-options crop_size=...`` must find a crop step), and the mixed-roots warning."""
    from lszoo.config.crop_size import apply_crop_size
    from lszoo.datasets.synthetic_writers import ensure_synthetic_data
    if getattr(args, 'data_root', None):
        apply_data_root(cfg, args.data_root, loaders, config_path)
    else:
        ensure_synthetic_data(cfg, loaders)
    apply_crop_size(cfg, (getattr(args, 'cfg_options', None) or {}).get('crop_size'))
    warn_mixed_data_roots(cfg, config_path)
