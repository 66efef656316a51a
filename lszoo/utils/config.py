"""Reading a config file with clear errors."""
import os.path as osp
from typing import Optional

from lszoo.errors import ConfigError


def load_config(path: str, cfg_options: Optional[dict] = None):
    """``Config.fromfile`` with ``--cfg-options`` merged, failures turned into ConfigError."""
    from mmengine.config import Config
    if not osp.isfile(path):
        raise ConfigError(f'config file {path} does not exist')
    try:
        cfg = Config.fromfile(path)
    except ImportError as err:  # custom_imports that cannot be imported
        raise ConfigError(f'config {path}: custom_imports failed: {err}') from None
    except (SyntaxError, KeyError, ValueError, TypeError, AttributeError) as err:
        raise ConfigError(f'config {path} cannot be read: {type(err).__name__}: {err}') from None
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def leaf_datasets(ds, key: str = ''):
    """``(config key, dataset config)`` of every dataset that lists files below the dataset
    config ``ds`` found at ``key``: wrappers (``ConcatDataset``'s ``datasets=[...]``,
    ``RepeatDataset``'s ``dataset=...``, ...) are walked through. Keys are written as
    ``--cfg-options`` takes them (``train_dataloader.dataset.datasets.0``)."""
    if not isinstance(ds, dict):
        return
    if ds.get('datasets') is not None:
        for i, sub in enumerate(ds['datasets']):
            yield from leaf_datasets(sub, f'{key}.datasets.{i}')
    elif ds.get('dataset') is not None:
        yield from leaf_datasets(ds['dataset'], f'{key}.dataset')
    else:
        yield key, ds


def loader_datasets(cfg, loader_key: str):
    """:func:`leaf_datasets` of the dataloader ``cfg[loader_key]`` (none when it is unset)."""
    loader = cfg.get(loader_key)
    if isinstance(loader, dict):
        yield from leaf_datasets(loader.get('dataset'), f'{loader_key}.dataset')
