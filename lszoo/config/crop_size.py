"""``crop_size``: one config value that sets the training crop.

mmengine resolves config variables when the file is parsed, so ``crop_size = (512, 512)`` in a
dataset base is copied into the pipeline dicts at once, and a later ``--cfg-options
crop_size="(256,256)"`` (or a child config's ``crop_size = ...``) changes only the variable.
:func:`apply_crop_size` runs on the final config (lszoo's tools call it after merging the
options) and writes ``crop_size`` into what it means: every ``RandomCrop`` of the training
pipeline(s) and, where set, the model data preprocessor's fixed ``size``.
"""
import logging
from typing import List, Optional

from mmengine.logging import print_log

from lszoo.errors import ConfigError
from lszoo.utils.config import leaf_datasets


def normalize_crop_size(value, where: str = 'crop_size') -> tuple:
    """``256`` or ``(256, 256)`` -> ``(256, 256)``; anything else is a ConfigError."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) or v <= 0 for v in value)):
        raise ConfigError(f'{where} must be (height, width) in pixels, e.g. '
                          f'--cfg-options crop_size="(256,256)"; got {value!r}')
    return tuple(int(v) for v in value)


def apply_crop_size(cfg, crop_size=None) -> List[str]:
    """Write ``cfg.crop_size`` (or ``crop_size``, which then replaces it) into the training crop.

    Returns the config keys that changed. A crop size asked for explicitly that finds no
    ``RandomCrop`` in the training pipeline is a ConfigError (it would do nothing).
    """
    if crop_size is not None:
        cfg.crop_size = normalize_crop_size(crop_size)
    if cfg.get('crop_size') is None:
        return []
    size = normalize_crop_size(cfg.crop_size)
    cfg.crop_size = size
    changed, found = [], 0
    loader = cfg.get('train_dataloader') or {}
    for n, (_, ds) in enumerate(leaf_datasets(loader.get('dataset'))):
        for i, step in enumerate(ds.get('pipeline') or []):
            if isinstance(step, dict) and step.get('type') == 'RandomCrop':
                found += 1
                if tuple(step.get('crop_size') or ()) != size:
                    step['crop_size'] = size
                    changed.append(f'train_dataloader dataset {n} pipeline[{i}].crop_size')
    preprocessor: Optional[dict] = (cfg.get('model') or {}).get('data_preprocessor')
    if isinstance(preprocessor, dict) and preprocessor.get('size') is not None:
        found += 1
        if tuple(preprocessor['size']) != size:
            preprocessor['size'] = size
            changed.append('model.data_preprocessor.size')
    if crop_size is not None and not found:
        raise ConfigError(f'crop_size={size}: the training pipeline has no RandomCrop (and the '
                          'model no data_preprocessor.size) to apply it to; add '
                          "dict(type='RandomCrop', crop_size=crop_size) to the train pipeline")
    if changed:
        print_log(f'lszoo: crop_size {size} applied to {", ".join(changed)}', logger='current',
                  level=logging.INFO)
    return changed
