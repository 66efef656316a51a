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


CONFIG_EXTS = ('.py', '.yml', '.yaml', '.json')


def _not_a_config(path: str) -> str:
    """Why ``path`` (not a .py/.yml/.yaml/.json file) cannot be a config, naming what it is."""
    ext = osp.splitext(path)[1].lower()
    if ext == '.onnx':
        what = 'an ONNX model, not a config'
    else:
        with open(path, 'rb') as f:
            head = f.read(4)
        # torch.save writes a zip (PK..), older PyTorch a pickle (0x80 protocol byte)
        if head.startswith(b'PK') or head[:1] == b'\x80' or ext in ('.pth', '.pt', '.ckpt'):
            what = 'a checkpoint (PyTorch file), not a config'
        else:
            return (f'config {path}: a config is a {"/".join(CONFIG_EXTS)} file, this one ends '
                    f'in {ext or "no extension"}')
    return (f'CONFIG {path} looks like {what}: the arguments are CONFIG first, then the '
            'checkpoint or model file (e.g. tools/test.py CONFIG CHECKPOINT)')


def _read(path: str):
    from mmengine.config import Config
    if not osp.isfile(path):
        raise ConfigError(f'config file {path} does not exist')
    if not path.lower().endswith(CONFIG_EXTS):
        raise ConfigError(_not_a_config(path))
    try:
        return Config.fromfile(path)
    except ImportError as err:  # custom_imports that cannot be imported
        raise ConfigError(f'config {path}: custom_imports failed: {err}') from None
    except (SyntaxError, KeyError, ValueError, TypeError, AttributeError) as err:
        raise ConfigError(f'config {path} cannot be read: {type(err).__name__}: {err}') from None
