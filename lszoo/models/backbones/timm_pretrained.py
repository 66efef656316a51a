"""Build a timm model with its pretrained weights, or stop with one line saying how to get them.

timm downloads pretrained weights on first use (Hugging Face hub or a URL, cached under
``HF_HOME`` / ``TORCH_HOME``). Without a network that fails deep inside huggingface_hub or urllib
with a multi-line traceback; here it becomes one :class:`~lszoo.errors.CheckpointError` naming the
weights (timm tag), where they come from, and the offline alternative, raised while the model is
built, i.e. before training starts (tools print it as one ``lszoo: error:`` line, exit 2).

Offline, huggingface_hub would retry for about a minute before failing. So before asking timm,
one TCP connection to the weights' host (3 s at most) tells whether there is a network; without
one, weights already in the Hugging Face cache are loaded from there (timm's
``pretrained_cfg_overlay``), and otherwise the error is raised at once.
"""
import os
import socket
from typing import Optional
from urllib.parse import urlparse

import timm
import torch
from timm.models import get_pretrained_cfg

from lszoo.errors import CheckpointError, ConfigError


def weights_source(name: str) -> str:
    """``'<arch>.<tag> (https://..., licence ...)'`` for a timm name with or without a tag."""
    cfg = _pretrained_cfg(name)
    if cfg is None:
        return name
    tag = f'{cfg.architecture}.{cfg.tag}' if cfg.tag else cfg.architecture
    where = (f'https://huggingface.co/{cfg.hf_hub_id}' if cfg.hf_hub_id else cfg.url) or \
        'no download location known to timm'
    licence = f', licence {cfg.license}' if cfg.license else ''
    return f'{tag} ({where}{licence})'


HUB_FILES = ('model.safetensors', 'pytorch_model.bin')


def _pretrained_cfg(name: str):
    try:
        return get_pretrained_cfg(name)
    except (RuntimeError, KeyError):
        return None


def weights_host(cfg) -> Optional[str]:
    """The host timm would download ``cfg``'s weights from (the Hub first, as timm does)."""
    if cfg.hf_hub_id:
        return urlparse(os.environ.get('HF_ENDPOINT') or 'https://huggingface.co').hostname
    return urlparse(cfg.url).hostname if cfg.url else None


def host_reachable(host: str, timeout: float = 3.0) -> bool:
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def cached_hub_file(cfg) -> Optional[str]:
    """The weights file of ``cfg`` in the local Hugging Face cache, if it is there."""
    if not cfg.hf_hub_id:
        return None
    from huggingface_hub import try_to_load_from_cache
    repo = cfg.hf_hub_id.split('@')[0]
    for filename in (cfg.hf_hub_filename, *HUB_FILES):
        path = try_to_load_from_cache(repo, filename) if filename else None
        if isinstance(path, str) and os.path.isfile(path):
            return path
    return None


def offline_overlay(name: str, owner: str, offline_key: str) -> Optional[dict]:
    """``None`` when the weights' host answers; offline, the cached file as timm's overlay, or
    the one-line error when there is none."""
    cfg = _pretrained_cfg(name)
    host = weights_host(cfg) if cfg is not None else None
    if host is None or host_reachable(host):
        return None
    cached = cached_hub_file(cfg)
    if cached is None:
        raise _download_error(name, owner, offline_key, f'no network ({host} unreachable) and '
                              'no copy in the Hugging Face cache')
    return dict(file=cached)


def _download_error(name: str, owner: str, offline_key: str, cause: str) -> CheckpointError:
    return CheckpointError(
        f'{owner}: cannot download the pretrained weights {weights_source(name)}: {cause} '
        f'-- offline, fetch them on a machine with a network (timm.create_model('
        f'"{name}", pretrained=True) caches them under HF_HOME) and set '
        f'{offline_key}=<that file> (or pretrained=False for random weights)')


def read_weights_file(path: str) -> dict:
    """A local weights file as a dict: ``.safetensors`` (what timm caches from the Hugging Face
    hub) through safetensors, anything else through lszoo's safe ``torch.load``."""
    if str(path).endswith('.safetensors'):
        if not os.path.isfile(path):
            raise CheckpointError(f'checkpoint file {path} does not exist')
        from safetensors import SafetensorError
        from safetensors.torch import load_file
        try:
            return load_file(path, device='cpu')
        except (SafetensorError, OSError, ValueError) as err:
            raise CheckpointError(f'{path}: not a readable safetensors file ({err})') from err
    from lszoo.utils.checkpoint import load_checkpoint_file
    return load_checkpoint_file(path, map_location='cpu')


def check_overlay_file(owner: str, pretrained_cfg_overlay: Optional[dict]) -> None:
    """A local weights file given through timm's ``pretrained_cfg_overlay`` must exist."""
    path = (pretrained_cfg_overlay or {}).get('file')
    if path and not os.path.isfile(path):
        raise CheckpointError(f'{owner}: pretrained_cfg_overlay file {path} does not exist')


def create_timm_model(name: str, owner: str, offline_key: str, pretrained: bool = False,
                      pretrained_cfg_overlay: Optional[dict] = None, **kwargs):
    """``timm.create_model(name, pretrained=..., **kwargs)`` with one-line errors.

    Args:
        name: timm name, optionally with a pretrained tag (``convnextv2_tiny.fcmae_ft_in22k_in1k``).
        owner: the lszoo module asking, for the message.
        offline_key: the config key of the local-file alternative (``model.backbone.checkpoint``).
        pretrained_cfg_overlay: timm's override, e.g. ``dict(file='/path/weights.safetensors')``
            to load the same weights from a local file (checked to exist first).
    """
    if pretrained_cfg_overlay:
        check_overlay_file(owner, pretrained_cfg_overlay)
        kwargs['pretrained_cfg_overlay'] = dict(pretrained_cfg_overlay)
    elif pretrained:
        overlay = offline_overlay(name, owner, offline_key)
        if overlay is not None:
            kwargs['pretrained_cfg_overlay'] = overlay
    try:
        return timm.create_model(name, pretrained=pretrained, **kwargs)
    except OSError as err:  # no network, no cache, HTTP error (requests/urllib/hf are OSErrors)
        if not pretrained:
            raise
        cause = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise _download_error(name, owner, offline_key, cause) from err
    except RuntimeError as err:  # unknown model name or pretrained tag
        raise ConfigError(f'{owner}: timm cannot build {name!r}: {err}') from err


def load_timm_pretrained(module: torch.nn.Module, name: str, owner: str, offline_key: str,
                         pretrained_cfg_overlay: Optional[dict] = None, **kwargs) -> None:
    """Copy timm's pretrained weights of ``name`` into ``module`` (built by timm with the same
    ``kwargs``, e.g. ``features_only=True, in_chans=4``), strictly.

    Called from an encoder's ``init_weights``: mmengine's runner initialises weights when
    training starts, so ``tools/test.py`` (and ``load_from`` / resume, which replace the weights
    anyway once a config sets ``pretrained=False``) never download, as with mmseg's
    ``init_cfg=dict(type='Pretrained')``.
    """
    src = create_timm_model(name, owner, offline_key, pretrained=True,
                            pretrained_cfg_overlay=pretrained_cfg_overlay, **kwargs)
    module.load_state_dict(src.state_dict(), strict=True)
