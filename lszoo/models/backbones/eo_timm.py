"""mmseg's ``TIMMBackbone`` started from Earth-observation weights matched to the data's bands."""
from typing import Optional, Sequence

from mmseg.models.backbones import TIMMBackbone
from mmseg.registry import MODELS

from lszoo.errors import ConfigError
from .eo_weights import check_eo_settings, load_eo_weights, published_spec


@MODELS.register_module()
class EOTimmBackbone(TIMMBackbone):
    """A timm ``features_only`` encoder initialised from EO weights (e.g. SSL4EO-S12).

    The checkpoint's first convolution is rebuilt for ``bands`` by band name
    (:func:`~lszoo.models.backbones.eo_weights.match_input_filters`); every other weight is
    loaded as is and must match the timm model (the classifier ``fc`` is dropped). The weights
    are fetched and loaded in :meth:`init_weights`, i.e. when training starts (as mmseg's
    ``init_cfg=dict(type='Pretrained')``): a model built to test or map with a trained checkpoint
    never needs them; the settings are checked at construction.

    Args:
        model_name: timm model, e.g. ``'resnet18'`` (default: the model of named weights or of
            a local file under its published name).
        bands: the dataset's band names, in channel order (the config's ``bands``).
        eo_weights: a name of :data:`~lszoo.models.backbones.eo_weights.EO_WEIGHTS` (downloaded
            through ``torch.hub`` when networked) or a local ``.pth`` file.
        eo_bands: band names of a local checkpoint's input channels (known names carry theirs).
        eo_init: ``'mean'`` or ``'zero'``, for the input channels the checkpoint lacks.
        kwargs: passed to :class:`mmseg.models.backbones.TIMMBackbone` and on to timm, e.g.
            ``out_indices=(1, 2, 3, 4)`` for the four stride-4..32 levels a GeoNeXt-style head
            reads (a ResNet's default is all five, strides 2..32).
    """

    def __init__(self, bands: Sequence[str], eo_weights: Optional[str] = None,
                 model_name: Optional[str] = None, eo_bands: Optional[Sequence[str]] = None,
                 eo_init: str = 'mean', in_channels: Optional[int] = None, **kwargs):
        bands = [str(b) for b in bands]
        if in_channels is not None and in_channels != len(bands):
            raise ConfigError(f'EOTimmBackbone: in_channels={in_channels} but {len(bands)} '
                              f'bands {bands}')
        if model_name is None:
            spec = published_spec(str(eo_weights))
            if spec is None:
                raise ConfigError('EOTimmBackbone: set model_name (a local eo_weights file '
                                  'under another name does not name its timm model)')
            model_name = spec['model']
        kwargs.setdefault('pretrained', False)
        super().__init__(model_name=model_name, in_channels=len(bands), **kwargs)
        self._eo = None
        if eo_weights is not None:
            check_eo_settings('EOTimmBackbone', eo_weights, eo_bands, eo_init)
            self._eo = (eo_weights, bands, eo_bands, eo_init)
            self._is_init = False  # init_weights() loads them

    def init_weights(self) -> None:
        """Load the EO weights (once; mmengine's runner calls this when training starts)."""
        load = self._eo is not None and not self._is_init
        super().init_weights()
        if load:
            self.load_eo_weights(*self._eo)

    def load_eo_weights(self, eo_weights, bands, eo_bands=None, init='mean') -> None:
        """Load ``eo_weights`` with the first layer matched to ``bands`` (see
        :func:`~lszoo.models.backbones.eo_weights.load_eo_weights`)."""
        self.eo_band_report = load_eo_weights(self.timm_model, eo_weights, bands, eo_bands, init,
                                              owner='EOTimmBackbone')
        self._is_init = True
