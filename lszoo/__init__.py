"""lszoo: landslide segmentation models, datasets and metrics for mmsegmentation.

Importing this package registers every lszoo module in mmsegmentation's registries
(``MODELS``, ``DATASETS``, ``TRANSFORMS``, ``METRICS``, ``HOOKS``, ...) and lszoo's safe
checkpoint loader and atomic file backend through mmengine's public registration API
(:mod:`lszoo.engine.mmengine_patches`; the patches of mmengine internals come later, with the
runner or the first checkpoint load). Configs load it with
``custom_imports = dict(imports=['lszoo'], allow_failed_imports=False)``.
"""
from .version import __version__
from .quiet_imports import import_quietly

import_quietly()  # before anything imports mmseg / mmcv (see lszoo/quiet_imports.py)
from . import datasets, engine, evaluation, models  # noqa: F401  (registration side effects)

engine.mmengine_patches.register_public()

__all__ = ['__version__']
