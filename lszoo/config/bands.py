"""Bands: the same in every dataloader and in the model, and one way to change them all.

A config lists ``bands`` in each dataloader's dataset (train, val, test) and the channel count in
the model. Changing one of them by hand (``--cfg-options train_dataloader.dataset.bands=...``)
passes a check of the training data alone and crashes at the first validation.
:func:`check_loader_bands` compares every dataloader's bands with each other and with the model
before anything is built; :func:`set_bands` (``tools/train.py --bands B2 B3 B4 B8``) changes
them consistently: every dataset's ``bands``, its ``stream_layout`` (back to the dataset's default
grouping), the model's input channels (or, for an EO encoder, its band names) and the
top-level ``bands`` / ``in_channels`` / ``stream_layout`` that scene inference reads.
"""
from typing import List, Optional, Sequence, Tuple

from lszoo.errors import ConfigError
from lszoo.utils.config import leaf_datasets

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _dataset_class(ds: dict):
    from mmseg.registry import DATASETS
    t = ds.get('type')
    return DATASETS.get(t) if isinstance(t, str) else (t if isinstance(t, type) else None)


def loader_bands(cfg) -> List[Tuple[str, Optional[str], Optional[list]]]:
    """``(config key, dataset type, band list)`` of every dataloader dataset; the list is the
    dataset's default when the config gives none, ``None`` when the dataset has no bands."""
    out = []
    for loader in LOADERS:
        spec = cfg.get(loader)
        if not isinstance(spec, dict):
            continue
        for key, ds in leaf_datasets(spec.get('dataset'), f'{loader}.dataset'):
            bands = ds.get('bands')
            if bands is None:
                cls = _dataset_class(ds)
                default = getattr(cls, 'DEFAULT_BANDS', None) if cls is not None else None
                bands = list(default) if default else None
                key = f'{key}.bands (default of {ds.get("type")})'
            else:
                bands = [bands] if isinstance(bands, (str, int)) else list(bands)
                key = f'{key}.bands'
            out.append((key, str(ds.get('type')), bands))
    return out


def _backbone_channels(cfg) -> Optional[Tuple[str, int]]:
    backbone = (cfg.get('model') or {}).get('backbone')
    if isinstance(backbone, dict):
        for name in ('in_channels', 'in_chans'):
            if isinstance(backbone.get(name), int):
                return f'model.backbone.{name}', backbone[name]
    return None


def check_loader_bands(cfg, config_path: Optional[str] = None) -> None:
    """Every dataloader (train, val, test) gives the same number of bands, and loaders of the
    same dataset type the same bands (a test on another dataset, e.g. zero-shot L4S ``B4, B3,
    B2`` for a CAS ``R, G, B`` model, may name them differently). The count is compared with the
    model by :func:`lszoo.config.checks.check_channels`, which runs after this check.

    Raises :class:`ConfigError` naming the loaders' bands and how to set them all at once.
    """
    where = f'config {config_path}' if config_path else 'the config'
    found = [(k, t, b) for k, t, b in loader_bands(cfg) if b is not None]
    if not found:
        return
    fix = ('set them once for every dataloader and the model: `tools/train.py CONFIG --bands '
           'NAME ...` (docs/safety.md, "Bands")')
    for i, (key, dtype, bands) in enumerate(found):
        ref = next(((k, b) for k, t, b in found[:i] if t == dtype), (found[0][0], found[0][2]))
        same_type = any(t == dtype for _, t, _ in found[:i])
        if len(bands) != len(ref[1]) or (same_type and [str(b) for b in bands]
                                         != [str(b) for b in ref[1]]):
            raise ConfigError(
                f'the dataloaders of {where} read different bands: {ref[0]} = {ref[1]} '
                f'({len(ref[1])}) but {key} = {bands} ({len(bands)}); a model trained on one '
                f'band list cannot be validated or tested on another. {fix}')
    _check_backbone_band_names(cfg, found[0], where, fix)


def _check_backbone_band_names(cfg, first, where: str, fix: str) -> None:
    """A backbone that names its input bands (EO encoders match their first layer to
    ``model.backbone.bands`` by name) must name the bands the (first, training) loader reads:
    the same count in another order would be matched to the wrong filters silently."""
    backbone = (cfg.get('model') or {}).get('backbone')
    names = backbone.get('bands') if isinstance(backbone, dict) else None
    key, _, bands = first
    if isinstance(names, (list, tuple)) and [str(b) for b in names] != [str(b) for b in bands]:
        raise ConfigError(
            f'{where}: model.backbone.bands = {list(names)} but {key} = {list(bands)}; the '
            f'encoder matches its first-layer filters to model.backbone.bands by name. {fix}')


def set_bands(cfg, bands: Sequence[str]) -> None:
    """Use ``bands`` in every dataloader dataset and the model (in place).

    Resets each dataset's ``stream_layout`` to its default grouping (an explicit layout indexes
    the old band list) and sets the backbone's ``in_channels`` / ``in_chans`` (an EO encoder's
    ``bands``, the names it matches its first layer to). Multi-stream
    backbones (``stream_channels``) say which channel feeds which encoder: those need the
    streams chosen in a config file, and get a :class:`ConfigError` here.
    """
    bands = list(bands)
    if not bands:
        raise ConfigError('--bands: give at least one band name')
    backbone = (cfg.get('model') or {}).get('backbone') or {}
    if isinstance(backbone, dict) and backbone.get('stream_channels') is not None:
        raise ConfigError(
            f'--bands: model.backbone.stream_channels = {backbone["stream_channels"]} assigns '
            'channels to the encoders of a multi-stream model; set `bands` and '
            '`stream_channels` together in a config file instead')
    touched = 0
    for loader in LOADERS:
        spec = cfg.get(loader)
        if not isinstance(spec, dict):
            continue
        for _, ds in leaf_datasets(spec.get('dataset'), loader):
            cls = _dataset_class(ds)
            if 'bands' in ds or getattr(cls, 'DEFAULT_BANDS', None):
                ds['bands'] = list(bands)
                ds['stream_layout'] = None
                touched += 1
    if not touched:
        raise ConfigError('--bands: no dataloader dataset of this config takes `bands`')
    model = _backbone_channels(cfg)
    if model is not None:
        cfg['model']['backbone'][model[0].rsplit('.', 1)[1]] = len(bands)
    if isinstance(backbone, dict) and 'bands' in backbone:  # EO encoders: names, not a count
        backbone['bands'] = list(bands)
    cfg['bands'] = list(bands)
    cfg['in_channels'] = len(bands)
    cfg['stream_layout'] = None


__all__ = ['check_loader_bands', 'loader_bands', 'set_bands']
