"""lszoo.config.checks: a timm backbone's norm_layer must resolve where mmseg looks it up."""
import pytest
from mmengine.config import Config

from lszoo.config.checks import check_registered_types
from lszoo.errors import ConfigError


def _cfg(backbone: dict) -> Config:
    return Config(dict(model=dict(type='EncoderDecoder', backbone=backbone)))


def test_unknown_timm_norm_layer_is_an_error_not_batchnorm():
    cfg = _cfg(dict(type='TIMMBackbone', model_name='resnet18', norm_layer='groupnorm'))
    with pytest.raises(ConfigError) as err:
        check_registered_types(cfg, 'my.py')
    msg = str(err.value)
    assert "unknown norm_layer 'groupnorm' at model.backbone.norm_layer in config my.py" in msg
    assert 'ChannelGroupNorm' in msg and 'BatchNorm' in msg


@pytest.mark.parametrize('backbone', [
    dict(type='TIMMBackbone', model_name='resnet18', norm_layer='ChannelGroupNorm'),
    dict(type='TIMMBackbone', model_name='resnet18', norm_layer='BN'),
    dict(type='TIMMBackbone', model_name='resnet18'),
    # not a TIMMBackbone: its norm_layer means whatever that backbone makes of it
    dict(type='MixVisionTransformer', norm_layer='anything'),
])
def test_known_or_foreign_norm_layers_pass(backbone):
    check_registered_types(_cfg(backbone))
