"""Configs from Python and from the tools: reading (:func:`load_config`), the overrides the tools
offer (``--data-root``, ``--bands``, ``crop_size``) and the checks run before anything is built
(:func:`preflight`) or before training starts (:func:`check_start_checkpoint`).

:func:`prepare_config` does all of it in one call, as ``tools/train.py`` and ``tools/test.py``
do. This package may use lszoo's models, datasets, evaluation and engine; the tools
(:mod:`lszoo.cli`) and :mod:`lszoo.apis` use it.
"""
from .bands import check_loader_bands, set_bands
from .crop_size import apply_crop_size, normalize_crop_size
from .data_root import apply_data_root, mixed_data_roots, warn_mixed_data_roots
from .load import load_config
from .checks import check_checkpoint_fits, preflight
from .prepare import prepare_config
from .start_checks import check_start_checkpoint

__all__ = ['apply_crop_size', 'apply_data_root', 'check_checkpoint_fits', 'check_loader_bands',
           'check_start_checkpoint', 'load_config', 'mixed_data_roots', 'normalize_crop_size',
           'preflight', 'prepare_config', 'set_bands', 'warn_mixed_data_roots']
