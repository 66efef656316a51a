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
