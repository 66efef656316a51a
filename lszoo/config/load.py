"""Reading a config file with clear errors: the one ``load_config`` of lszoo."""
import os.path as osp
from typing import Optional

from lszoo.errors import ConfigError


def load_config(config, cfg_options: Optional[dict] = None):
    """A :class:`~mmengine.config.Config` from a path, a dict or a Config (returned as is).

    A path is read with ``Config.fromfile`` and its failures become one :class:`ConfigError`
    naming the file; ``cfg_options`` (``--cfg-options``) are merged into the result.
    """
    from mmengine.config import Config
    if isinstance(config, Config):
        cfg = config
    elif isinstance(config, dict):
        cfg = Config(config)
    else:
        cfg = _read(str(config))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def _read(path: str):
    from mmengine.config import Config
    if not osp.isfile(path):
        raise ConfigError(f'config file {path} does not exist')
    try:
        return Config.fromfile(path)
    except ImportError as err:  # custom_imports that cannot be imported
        raise ConfigError(f'config {path}: custom_imports failed: {err}') from None
    except (SyntaxError, KeyError, ValueError, TypeError, AttributeError) as err:
        raise ConfigError(f'config {path} cannot be read: {type(err).__name__}: {err}') from None
