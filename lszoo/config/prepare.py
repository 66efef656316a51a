"""A config ready to build, in one call: read, overridden and checked as the tools do it."""
from typing import Optional, Sequence

from .bands import set_bands
from .crop_size import apply_crop_size
from .data_root import LOADERS, apply_data_root, warn_mixed_data_roots
from .load import load_config
from .checks import preflight


def prepare_config(config, cfg_options: Optional[dict] = None, data_root: Optional[str] = None,
                   bands: Optional[Sequence[str]] = None, crop_size=None,
                   stage: Optional[str] = 'train', loaders: Sequence[str] = LOADERS):
    """:func:`load_config`, then the tools' overrides and checks, in their order.

    ``bands`` (``--bands``) go into every dataloader and the model; ``data_root``
    (``--data-root``) into every file-reading dataset of ``loaders``; ``crop_size`` (or a
    ``crop_size`` in ``cfg_options``) into the training crop. ``stage`` ('train' or 'test') runs
    :func:`preflight` for it; ``None`` skips the checks. Bad input raises one
    :class:`~lszoo.errors.LSZooError` naming the file and key.
    """
    cfg = load_config(config, cfg_options)
    path = getattr(cfg, 'filename', None) or (config if isinstance(config, str) else None)
    if bands:
        set_bands(cfg, bands)
    if data_root:
        apply_data_root(cfg, data_root, loaders, path)
    if crop_size is None:
        crop_size = (cfg_options or {}).get('crop_size')
    apply_crop_size(cfg, crop_size)
    warn_mixed_data_roots(cfg, path)
    if stage is not None:
        preflight(cfg, path, stage=stage)
    return cfg
