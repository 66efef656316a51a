"""Config checks (:func:`preflight`) run by ``tools/train.py`` and ``tools/test.py`` before
mmengine builds anything.

Each check raises an :class:`~lszoo.errors.LSZooError` whose message names the config file, the
config key and the problem, instead of the KeyError / shape error that mmengine would raise deep
inside a run: a model part whose ``type`` is not registered, a ``data_root`` that does not exist,
a channel count that differs between the data and the model, and (after the runner has built the
model) a checkpoint that does not fit it.
"""
import difflib
import inspect
import os.path as osp
from typing import Iterator, List, Optional, Sequence, Tuple

from lszoo.errors import ConfigError, DataError
from lszoo.utils.config import loader_datasets

_LOADERS = {'train': ('train_dataloader', 'val_dataloader'), 'test': ('test_dataloader',)}


def _registries():
    """mmseg's registries, with mmseg's own modules registered."""
    from mmseg.registry import DATASETS, MODELS
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    return MODELS, DATASETS


def _all_names(registry) -> List[str]:
    names, reg = set(), registry
    while reg is not None:
        names.update(reg.module_dict)
        reg = reg.parent
    return sorted(names)


def _where(config_path: Optional[str]) -> str:
    return f'config {config_path}' if config_path else 'the config'


def _did_you_mean(name: str, registry, cutoff: float = 0.6) -> str:
    close = difflib.get_close_matches(name, _all_names(registry), n=3, cutoff=cutoff)
    return f' Did you mean {", ".join(repr(c) for c in close)}?' if close else ''


def _unknown(registry, name: str, key: str, what: str, config_path) -> ConfigError:
    hint = _did_you_mean(name, registry)
    return ConfigError(
        f'unknown {what} type {name!r} at {key} in {_where(config_path)}: it is not registered '
        f'in mmseg\'s {registry.name} registry (is the module that defines it listed in '
        f'custom_imports?).{hint}')


def _model_parts(model: dict) -> Iterator[Tuple[str, dict]]:
    """(key, dict) of every model part whose ``type`` is a MODELS entry."""
    yield 'model', model
    for part in ('data_preprocessor', 'backbone', 'neck', 'decode_head', 'auxiliary_head'):
        sub = model.get(part)
        subs = sub if isinstance(sub, (list, tuple)) else [sub]
        for i, s in enumerate(subs):
            if not isinstance(s, dict):
                continue
            key = f'model.{part}' + (f'[{i}]' if isinstance(sub, (list, tuple)) else '')
            yield key, s
            losses = s.get('loss_decode')
            if isinstance(losses, dict):
                yield f'{key}.loss_decode', losses
            elif isinstance(losses, (list, tuple)):
                for j, loss in enumerate(losses):
                    if isinstance(loss, dict):
                        yield f'{key}.loss_decode[{j}]', loss


def _check_timm_norm_layer(cls, part: dict, key: str, config_path) -> None:
    """mmseg's ``TIMMBackbone`` looks a ``norm_layer`` name up in mmengine's root registry and
    passes ``None`` to timm when it is not there: timm then keeps BatchNorm without a word."""
    from mmengine.registry import MODELS as MMENGINE_MODELS
    from mmseg.models.backbones import TIMMBackbone
    name = part.get('norm_layer')
    if (isinstance(name, str) and inspect.isclass(cls) and issubclass(cls, TIMMBackbone)
            and MMENGINE_MODELS.get(name) is None):
        hint = _did_you_mean(name, MMENGINE_MODELS, cutoff=0.5)
        raise ConfigError(
            f'unknown norm_layer {name!r} at {key}.norm_layer in {_where(config_path)}: '
            f"mmseg's TIMMBackbone would silently keep timm's default (BatchNorm); use a name "
            f"of mmengine's MODELS registry, e.g. 'ChannelGroupNorm' for GroupNorm.{hint}")


def check_registered_types(cfg, config_path: Optional[str] = None) -> None:
    """Every ``type`` of the model, its parts, losses and datasets is registered (and a timm
    backbone's ``norm_layer``)."""
    models, datasets = _registries()
    model = cfg.get('model')
    if model is None:
        raise ConfigError(f'{_where(config_path)} has no `model`')
    for key, part in _model_parts(model):
        t = part.get('type')
        cls = models.get(t) if isinstance(t, str) else None
        if isinstance(t, str) and cls is None:
            raise _unknown(models, t, f'{key}.type', 'model', config_path)
        _check_timm_norm_layer(cls, part, key, config_path)
    for loader_key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for key, ds in loader_datasets(cfg, loader_key):
            t = ds.get('type')
            if isinstance(t, str) and datasets.get(t) is None:
                raise _unknown(datasets, t, f'{key}.type', 'dataset', config_path)


def check_data_roots(cfg, config_path: Optional[str] = None, stage: str = 'train') -> None:
    """Every dataset the stage uses has an existing ``data_root`` (when it has one)."""
    for loader_key in _LOADERS[stage]:
        for key, ds in loader_datasets(cfg, loader_key):
            root = ds.get('data_root')
            if root in (None, ''):
                continue
            if not osp.isdir(osp.expanduser(str(root))):
                _, datasets = _registries()
                cls = datasets.get(ds.get('type')) if isinstance(ds.get('type'), str) else None
                url = getattr(cls, 'URL', '') if cls is not None else ''
                source = f' The data can be downloaded from {url}.' if url else ''
                raise DataError(
                    f'data_root {root!r} ({key}.data_root in {_where(config_path)}) does not '
                    f'exist or is not a folder.{source} Point the config at it with '
                    f'--data-root /path/to/data (every loader; or --cfg-options '
                    f'{key}.data_root=/path/to/data for this one), or put the data under '
                    f'{root!r}')


def model_input_channels(cfg) -> Optional[Tuple[int, str]]:
    """The channel count the model's backbone expects, and the key it comes from (or None)."""
    models, _ = _registries()
    backbone = (cfg.get('model') or {}).get('backbone')
    if not isinstance(backbone, dict):
        return None
    for key in ('in_channels', 'in_chans'):
        if isinstance(backbone.get(key), int):
            return backbone[key], f'model.backbone.{key}'
    cls = models.get(backbone.get('type')) if isinstance(backbone.get('type'), str) else None
    if cls is not None:
        try:
            params = inspect.signature(cls.__init__).parameters
        except (TypeError, ValueError):
            return None
        for key in ('in_channels', 'in_chans'):
            if key in params and isinstance(params[key].default, int):
                return params[key].default, f'model.backbone.{key} (default of {cls.__name__})'
    return None


def _stream_indices(backbone: dict) -> Optional[Tuple[List[int], str]]:
    """Channel indices a multi-stream backbone reads (``stream_channels``), if it declares them."""
    for key in ('stream_channels', 'stream_layout'):
        value = backbone.get(key)
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, (list, tuple)) and value and all(
                isinstance(v, (list, tuple)) for v in value):
            idx = [int(i) for v in value for i in v]
            return idx, f'model.backbone.{key}'
    return None


def data_channels(cfg, loader_key: str) -> Optional[Tuple[int, str]]:
    """The channel count the data gives (from the dataset's ``bands``), and where it comes from."""
    for key, ds in loader_datasets(cfg, loader_key):
        bands = ds.get('bands')
        if isinstance(bands, (list, tuple)) and bands:
            return len(bands), f'{key}.bands = {list(bands)}'
        if bands is None and isinstance(ds.get('type'), str):  # the dataset's default bands
            _, datasets = _registries()
            default = getattr(datasets.get(ds['type']), 'DEFAULT_BANDS', None)
            if default:
                return len(default), f'default bands of {ds["type"]} = {list(default)}'
    return None


def check_channels(cfg, config_path: Optional[str] = None, stage: str = 'train') -> None:
    """The data's channel count matches what the model's backbone reads."""
    data = None
    for loader_key in _LOADERS[stage]:
        data = data_channels(cfg, loader_key)
        if data is not None:
            break
    if data is None:
        return
    n_data, data_key = data
    backbone = (cfg.get('model') or {}).get('backbone') or {}
    streams = _stream_indices(backbone) if isinstance(backbone, dict) else None
    if streams is not None:
        idx, key = streams
        if max(idx) >= n_data:
            raise ConfigError(
                f'channel mismatch in {_where(config_path)}: {key} reads channel {max(idx)} but '
                f'the data gives only {n_data} channels ({data_key}).')
        return
    expected = model_input_channels(cfg)
    if expected is None:
        return
    n_model, model_key = expected
    if n_model != n_data:
        raise ConfigError(
            f'channel mismatch in {_where(config_path)}: the data gives {n_data} channels '
            f'({data_key}) but the model expects {n_model} ({model_key} = {n_model}). Set '
            f'model.backbone.in_channels to {n_data} (e.g. '
            f'model = dict(backbone=dict(in_channels={{{{_base_.in_channels}}}}))) '
            f'or change the bands.')


def check_eo_files(cfg, config_path: Optional[str] = None) -> None:
    """A local file named by ``model.backbone.eo_weights`` (one, or one per stream) exists.

    The encoders load EO weights when training starts, after the datasets are built; a wrong
    path is reported before anything is built instead (names of known weights are fetched then).
    """
    from lszoo.models.backbones.eo_weights import EO_WEIGHTS
    backbone = (cfg.get('model') or {}).get('backbone') or {}
    eo = backbone.get('eo_weights') if isinstance(backbone, dict) else None
    for path in ([eo] if isinstance(eo, str) else list(eo or [])):
        if isinstance(path, str) and path not in EO_WEIGHTS and not osp.isfile(path):
            raise ConfigError(
                f'{_where(config_path)}: model.backbone.eo_weights file {path} does not exist '
                f'(give a local file or a known name: {sorted(EO_WEIGHTS)})')


def preflight(cfg, config_path: Optional[str] = None, stage: str = 'train',
              checks: Sequence[str] = ('types', 'data_root', 'bands', 'channels',
                                       'eo_weights')) -> None:
    """Run the config checks for ``stage`` ('train': train + val data, 'test': test data);
    ``'bands'`` compares every dataloader's bands (train, val and test, whatever the stage) with
    each other and the model (:func:`lszoo.config.bands.check_loader_bands`); ``'eo_weights'``
    (training only: a trained checkpoint replaces them) checks a local EO weights file."""
    if stage not in _LOADERS:
        raise ValueError(f'stage must be one of {sorted(_LOADERS)}, got {stage!r}')
    if 'types' in checks:
        check_registered_types(cfg, config_path)
    if 'data_root' in checks:
        check_data_roots(cfg, config_path, stage)
    if 'bands' in checks:
        from lszoo.config.bands import check_loader_bands
        check_loader_bands(cfg, config_path)
    if 'channels' in checks:
        check_channels(cfg, config_path, stage)
    if 'eo_weights' in checks and stage == 'train':
        check_eo_files(cfg, config_path)


def check_checkpoint_fits(model, checkpoint_path: str, config_path: Optional[str] = None) -> None:
    """The checkpoint's ``state_dict`` has every tensor of ``model`` with the same shape.

    mmengine loads checkpoints non-strictly and only logs what it skipped, so testing a
    checkpoint of another model (or another channel count) would score random weights.
    """
    from lszoo.utils.checkpoint import check_state_dict_fits, load_state_dict

    module = getattr(model, 'module', model)  # unwrap (C)DDP
    check_state_dict_fits(load_state_dict(checkpoint_path), module,
                          f'checkpoint {checkpoint_path}', f'the model of {_where(config_path)}',
                          allow_unexpected=True,
                          hint=' (a checkpoint of another model or band selection?)')
