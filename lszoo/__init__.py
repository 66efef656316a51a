"""lszoo: landslide segmentation models, datasets and metrics for mmsegmentation.

Importing this package registers every lszoo module in mmsegmentation's registries
(``MODELS``, ``DATASETS``, ``TRANSFORMS``, ``METRICS``, ``HOOKS``, ...) and lszoo's safe
checkpoint loader and atomic file backend through mmengine's public registration API
(:mod:`lszoo.engine.mmengine_patches`; the patches of mmengine internals come later, with the
runner or the first checkpoint load). Configs load it with
``custom_imports = dict(imports=['lszoo'], allow_failed_imports=False)``.

One exception keeps ``--help`` fast: a command-line tool (a ``__main__`` module that sets
``LSZOO_TOOL = True``) run with ``-h``/``--help`` only prints its help, so the registrations
(which import torch and mmsegmentation, seconds) wait for :func:`register_all_modules`, which
:func:`lszoo.cli.tool.run_tool` calls before any tool's work.
"""
import sys

from .version import __version__

_registered = False


def register_all_modules() -> None:
    """Register every lszoo module (idempotent; ``import lszoo`` does it)."""
    global _registered
    if _registered:
        return
    from .quiet_imports import import_quietly
    import_quietly()  # before anything imports mmseg / mmcv (see lszoo/quiet_imports.py)
    from . import datasets, engine, evaluation, models  # noqa: F401  (registration side effects)
    engine.mmengine_patches.register_public()
    _registered = True


def _help_only() -> bool:
    """A tool run only to print its help (see the module docstring)."""
    main = sys.modules.get('__main__')
    return (getattr(main, 'LSZOO_TOOL', False) is True
            and any(a in ('-h', '--help') for a in sys.argv[1:]))


if not _help_only():
    register_all_modules()

__all__ = ['__version__', 'register_all_modules']
