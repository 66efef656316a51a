"""mmseg's ``TIMMBackbone`` started from Earth-observation weights matched to the data's bands."""
from typing import Optional, Sequence

from mmengine.logging import print_log
from mmseg.models.backbones import TIMMBackbone
from mmseg.registry import MODELS

from lszoo.errors import CheckpointError, ConfigError
from .eo_weights import EO_WEIGHTS, fetch_eo_state_dict, first_conv_key, match_input_filters


@MODELS.register_module()
class EOTimmBackbone(TIMMBackbone):
    """A timm ``features_only`` encoder initialised from EO weights (e.g. SSL4EO-S12).

    The checkpoint's first convolution is rebuilt for ``bands`` by band name
    (:func:`~lszoo.models.backbones.eo_weights.match_input_filters`); every other weight is
    loaded as is and must match the timm model (the classifier ``fc`` is dropped).

    Args:
        model_name: timm model, e.g. ``'resnet18'`` (default: the named weights' model).
        bands: the dataset's band names, in channel order (the config's ``bands``).
        eo_weights: a name of :data:`~lszoo.models.backbones.eo_weights.EO_WEIGHTS` (downloaded
            through ``torch.hub`` when networked) or a local ``.pth`` file.
        eo_bands: band names of a local checkpoint's input channels (known names carry theirs).
        eo_init: ``'mean'`` or ``'zero'``, for the input channels the checkpoint lacks.
        kwargs: passed to :class:`mmseg.models.backbones.TIMMBackbone`.
    """

    def __init__(self, bands: Sequence[str], eo_weights: Optional[str] = None,
                 model_name: Optional[str] = None, eo_bands: Optional[Sequence[str]] = None,
                 eo_init: str = 'mean', in_channels: Optional[int] = None, **kwargs):
        bands = [str(b) for b in bands]
        if in_channels is not None and in_channels != len(bands):
            raise ConfigError(f'EOTimmBackbone: in_channels={in_channels} but {len(bands)} '
                              f'bands {bands}')
        if model_name is None:
            if eo_weights not in EO_WEIGHTS:
                raise ConfigError('EOTimmBackbone: set model_name (a local eo_weights file '
                                  'does not name its timm model)')
            model_name = EO_WEIGHTS[eo_weights]['model']
        kwargs.setdefault('pretrained', False)
        super().__init__(model_name=model_name, in_channels=len(bands), **kwargs)
        if eo_weights is not None:
            self.load_eo_weights(eo_weights, bands, eo_bands, eo_init)

    def load_eo_weights(self, eo_weights, bands, eo_bands=None, init='mean') -> None:
        state, known = fetch_eo_state_dict(eo_weights)
        ckpt_bands = list(eo_bands or known or [])
        if not ckpt_bands:
            raise ConfigError(f'EOTimmBackbone: eo_bands is needed for the local file '
                              f'{eo_weights} (its input bands in order, e.g. the 13 Sentinel-2 '
                              'bands B1 ... B12 with B8A)')
        state = {k: v for k, v in state.items() if not k.startswith(('fc.', 'head.fc.'))}
        key = first_conv_key(state)
        state[key], copied, initialised = match_input_filters(state[key], ckpt_bands, bands,
                                                              init)
        own = self.timm_model.state_dict()
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        shapes = [f'{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}' for k in state
                  if k in own and state[k].shape != own[k].shape]
        if missing or unexpected or shapes:
            raise CheckpointError(
                f'EO weights {eo_weights} do not fit timm {self.timm_model.__class__.__name__}: '
                f'{len(missing)} missing {missing[:3]}, {len(unexpected)} unexpected '
                f'{unexpected[:3]}, shape mismatches {shapes[:3]}')
        self.timm_model.load_state_dict(state, strict=True)
        self._is_init = True  # keep the loaded weights through init_weights()
        self.eo_band_report = dict(copied=copied, initialised=initialised)
        print_log(f'EO weights {eo_weights}: first-layer filters copied for bands {copied}; '
                  f'initialised ({init}) for {initialised or "none"}', logger='current')
