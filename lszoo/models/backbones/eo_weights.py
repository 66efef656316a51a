"""Earth-observation pretrained weights for timm encoders, with first-layer band matching.

A Sentinel-2 user should start from weights pre-trained on Sentinel-2 rather than ImageNet RGB.
torchgeo publishes timm-compatible ResNets pre-trained by self-supervision on SSL4EO-S12
(Wang et al., "SSL4EO-S12: A large-scale multi-modal, multi-temporal dataset for self-supervised
learning in Earth observation", IEEE GRSM 2023; weights CC-BY-4.0) on all 13 Sentinel-2 L1C bands,
input reflectance / 10000. Their state dicts are plain timm ``resnet18``/``resnet50`` ones.

A dataset rarely has exactly those 13 bands (Landslide4Sense: 12 of them plus slope and DEM),
so the first convolution is rebuilt for the dataset's bands **by name**: the checkpoint filter of
each band the dataset has is copied, the other input channels are initialised (the mean of the
checkpoint's filters by default) and the log says which is which.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.logging import print_log

from lszoo.errors import CheckpointError, ConfigError
from lszoo.utils.checkpoint import check_state_dict_fits

#: Sentinel-2 L1C bands in the order of the SSL4EO-S12 checkpoints.
S2_L1C_BANDS = ('B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B9', 'B10', 'B11',
                'B12')
_HF = 'https://hf.co/torchgeo'
#: Known EO weights: name -> timm model, URL (as published by torchgeo), bands, input scale.
EO_WEIGHTS: Dict[str, dict] = {
    'ssl4eo_s12_resnet18_moco': dict(
        model='resnet18', bands=S2_L1C_BANDS, scale=10000.0, licence='CC-BY-4.0',
        url=f'{_HF}/resnet18_sentinel2_all_moco/resolve/5b8cddc9a14f3844350b7f40b85bcd32aed75918/'
            'resnet18_sentinel2_all_moco-59bfdff9.pth'),
    'ssl4eo_s12_resnet50_moco': dict(
        model='resnet50', bands=S2_L1C_BANDS, scale=10000.0, licence='CC-BY-4.0',
        url=f'{_HF}/resnet50_sentinel2_all_moco/resolve/da4f3c9dbe09272eb902f3b37f46635fa4726879/'
            'resnet50_sentinel2_all_moco-df8b932e.pth'),
    'ssl4eo_s12_resnet50_dino': dict(
        model='resnet50', bands=S2_L1C_BANDS, scale=10000.0, licence='CC-BY-4.0',
        url=f'{_HF}/resnet50_sentinel2_all_dino/resolve/d7f14bf5530d70ac69d763e58e77e44dbecfec7c/'
            'resnet50_sentinel2_all_dino-d6c330e9.pth'),
}
#: Other spellings of Sentinel-2 band names seen in GeoTIFF descriptions.
_ALIASES = {'B01': 'B1', 'B02': 'B2', 'B03': 'B3', 'B04': 'B4', 'B05': 'B5', 'B06': 'B6',
            'B07': 'B7', 'B08': 'B8', 'B8a': 'B8A', 'B09': 'B9'}


def canonical_band(name: str) -> str:
    """``'b02'`` / ``'B02'`` -> ``'B2'``, ``'b8a'`` -> ``'B8A'``; other names unchanged."""
    up = str(name).upper()
    return _ALIASES.get(up, _ALIASES.get(str(name), up if up.startswith('B') else str(name)))


def published_spec(weights: str) -> Optional[dict]:
    """The :data:`EO_WEIGHTS` entry of a name, or of a local file under a published file name
    (e.g. ``/data/resnet18_sentinel2_all_moco-59bfdff9.pth``); ``None`` otherwise."""
    if weights in EO_WEIGHTS:
        return EO_WEIGHTS[weights]
    same = [s for s in EO_WEIGHTS.values() if osp.basename(s['url']) == osp.basename(weights)]
    return same[0] if same else None


def check_eo_settings(owner: str, eo_weights, eo_bands: Optional[Sequence[str]],
                      init: str) -> None:
    """What can be checked of an EO start without reading a file (at construction: a model built
    to load a trained checkpoint never fetches the EO weights, see :func:`load_eo_weights`)."""
    if not isinstance(eo_weights, str) or not eo_weights:
        raise ConfigError(f'{owner}: eo_weights must be a name of EO_WEIGHTS '
                          f'({sorted(EO_WEIGHTS)}) or a local file, got {eo_weights!r}')
    if init not in ('mean', 'zero'):
        raise ConfigError(f"{owner}: eo_init must be 'mean' or 'zero', got {init!r}")
    if not eo_bands and published_spec(eo_weights) is None:
        raise ConfigError(f'{owner}: eo_bands is needed for the local file {eo_weights} (its '
                          'input bands in order, e.g. the 13 Sentinel-2 bands B1 ... B12 with '
                          'B8A)')


def fetch_eo_state_dict(weights: str) -> Tuple[dict, Optional[Sequence[str]]]:
    """State dict of ``weights`` (a local file, or a name of :data:`EO_WEIGHTS`) and, for a
    known name or a local file under a published file name, its band order.

    A name is fetched through ``torch.hub`` (cached in ``$TORCH_HOME/hub/checkpoints``); without
    network that fails with one line saying where to get the file and how to pass it.
    """
    from lszoo.utils.checkpoint import load_state_dict
    if weights in EO_WEIGHTS:
        spec = EO_WEIGHTS[weights]
        cached = osp.join(torch.hub.get_dir(), 'checkpoints', osp.basename(spec['url']))
        if not osp.isfile(cached):
            try:
                os.makedirs(osp.dirname(cached), exist_ok=True)
                torch.hub.download_url_to_file(spec['url'], cached, progress=False)
            except Exception as exc:  # URLError, HTTPError, OSError ...
                raise CheckpointError(
                    f'cannot download EO weights {weights!r} from {spec["url"]} ({exc}); '
                    f'fetch the file on a networked machine and pass its local path as '
                    f'eo_weights=/path/{osp.basename(spec["url"])}') from None
        state = load_state_dict(cached)
    elif osp.isfile(str(weights)):
        state = load_state_dict(weights)
    else:
        raise ConfigError(f'eo_weights {weights!r} is neither a local file nor a known name '
                          f'({sorted(EO_WEIGHTS)})')
    if not state:
        raise CheckpointError(f'{weights}: holds no state dict')
    spec = published_spec(str(weights))
    return dict(state), (spec['bands'] if spec else None)


def match_input_filters(weight: torch.Tensor, ckpt_bands: Sequence[str],
                        data_bands: Sequence[str], init: str = 'mean'
                        ) -> Tuple[torch.Tensor, List[str], List[str]]:
    """First-convolution weight ``(O, len(ckpt_bands), k, k)`` -> ``(O, len(data_bands), k, k)``.

    Filters of bands present in both (by name, see :func:`canonical_band`) are copied; the other
    channels get the mean of the checkpoint's filters (``init='mean'``) or zeros
    (``init='zero'``). Returns ``(weight, copied band names, initialised band names)``.
    """
    if weight.ndim != 4 or weight.shape[1] != len(ckpt_bands):
        raise CheckpointError(f'first convolution of shape {tuple(weight.shape)} does not take '
                              f'the checkpoint\'s {len(ckpt_bands)} bands {list(ckpt_bands)}')
    if init not in ('mean', 'zero'):
        raise ConfigError(f"eo init must be 'mean' or 'zero', got {init!r}")
    where = {canonical_band(b): i for i, b in enumerate(ckpt_bands)}
    fill = weight.mean(1) if init == 'mean' else torch.zeros_like(weight[:, 0])
    out = weight.new_empty((weight.shape[0], len(data_bands)) + tuple(weight.shape[2:]))
    copied, initialised = [], []
    for c, band in enumerate(data_bands):
        k = where.get(canonical_band(band))
        if k is None:
            out[:, c] = fill
            initialised.append(str(band))
        else:
            out[:, c] = weight[:, k]
            copied.append(str(band))
    return out, copied, initialised


def first_conv_key(state: dict) -> str:
    """Key of the first convolution's weight (the first 4-D weight, e.g. ``conv1.weight``)."""
    for key, value in state.items():
        if key.endswith('weight') and getattr(value, 'ndim', 0) == 4:
            return key
    raise CheckpointError('the EO checkpoint has no convolution weight')


def load_eo_weights(model: torch.nn.Module, eo_weights: str, bands: Sequence[str],
                    eo_bands: Optional[Sequence[str]] = None, init: str = 'mean',
                    owner: str = 'encoder') -> dict:
    """Load EO weights into a timm model whose first convolution takes ``bands``.

    The checkpoint's first convolution is rebuilt for ``bands`` by name
    (:func:`match_input_filters`); the classifier (``fc.`` / ``head.fc.``) is dropped and every
    other tensor must fit ``model`` exactly (loaded strictly). The log names, per input channel,
    the checkpoint filter it got or that it was initialised. The encoders call this from
    ``init_weights``, which mmengine's runner calls when training starts: ``tools/test.py`` and
    ``tools/infer_scene.py``, whose checkpoint replaces every weight, never fetch EO weights.

    Args:
        model: the timm model (e.g. a ``features_only`` one) to load into.
        eo_weights: a name of :data:`EO_WEIGHTS` or a local file (see :func:`fetch_eo_state_dict`).
        bands: the model's input band names, in channel order (may repeat, e.g. a DEM x3).
        eo_bands: band names of a local file's input channels (known names carry theirs).
        init: ``'mean'`` or ``'zero'`` for the channels the checkpoint lacks.
        owner: who loads, for messages (``'EOTimmBackbone'``, ``'... stream A'``).

    Returns:
        ``dict(copied=[band names], initialised=[band names])``.
    """
    check_eo_settings(owner, eo_weights, eo_bands, init)
    state, known = fetch_eo_state_dict(eo_weights)
    ckpt_bands = list(eo_bands or known)
    state = {k: v for k, v in state.items() if not k.startswith(('fc.', 'head.fc.'))}
    key = first_conv_key(state)
    state[key], copied, initialised = match_input_filters(state[key], ckpt_bands, bands, init)
    check_state_dict_fits(state, model, f'EO weights {eo_weights}',
                          f'{owner} (timm {type(model).__name__})',
                          hint='; wrong model_name for these weights?')
    model.load_state_dict(state, strict=True)
    where = {canonical_band(b): (b, i) for i, b in enumerate(ckpt_bands)}
    got = [f'{b}<-{where[canonical_band(b)][0]}[{where[canonical_band(b)][1]}]' for b in copied]
    print_log(f'{owner}: EO weights {eo_weights}: first-layer filters copied (band<-checkpoint '
              f'band[channel]) {", ".join(got) or "none"}; initialised ({init}) for '
              f'{", ".join(initialised) or "none"}', logger='current')
    return dict(copied=copied, initialised=initialised)
