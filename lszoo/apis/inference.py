"""Building a model for inference, under mmsegmentation's name (``mmseg.apis.init_model``)."""
from typing import Optional

from lszoo.errors import ConfigError


def init_model(config, checkpoint: Optional[str] = None, device: str = 'cpu',
               cfg_options: Optional[dict] = None):
    """The segmentor of ``config`` (path, dict or Config) with the weights of ``checkpoint``, in
    eval mode on ``device``; ``model.cfg`` holds the config.

    As mmseg's ``init_model``, but the weights are loaded safely (weights only, see
    ``docs/safety.md``) and must fit the model exactly
    (:func:`lszoo.utils.checkpoint.load_weights`), and the default device is the CPU.
    """
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    import lszoo  # noqa: F401  (registers lszoo modules)
    from lszoo.utils.checkpoint import load_weights

    from lszoo.config import load_config
    cfg = load_config(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise ConfigError(f'config {getattr(cfg, "filename", None) or "<dict>"} has no "model"')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = cfg.model.copy()
    model_cfg.pop('pretrained', None)
    model = MODELS.build(model_cfg)
    if checkpoint is not None:
        load_weights(model, checkpoint, 'the config model')
    model.cfg = cfg
    return model.to(device).eval()
