"""Building a model for inference, under mmsegmentation's name (``mmseg.apis.init_model``)."""
from typing import Optional

from lszoo.errors import ConfigError


def init_model(config, checkpoint: Optional[str] = None, device: str = 'cpu',
               cfg_options: Optional[dict] = None):
    """The segmentor of ``config`` (path, dict or Config) with the weights of ``checkpoint``, in
    eval mode on ``device``; ``model.cfg`` holds the config.

    As mmseg's ``init_model``, but the weights are loaded safely (weights only, see
    ``docs/safety.md``) and must fit the model exactly
    (:func:`lszoo.utils.checkpoint.check_state_dict_fits`), and the default device is the CPU.
    A checkpoint whose stored training config reads other bands (or another stream layout) than
    ``config`` is refused before the model is built
    (:func:`lszoo.config.trained_bands.check_trained_bands`).
    """
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    import lszoo  # noqa: F401  (registers lszoo modules)
    from lszoo.config import load_config
    from lszoo.config.trained_bands import check_trained_bands
    from lszoo.utils.checkpoint import (check_state_dict_fits, clean_state_dict,
                                        load_checkpoint_file)
    cfg = load_config(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise ConfigError(f'config {getattr(cfg, "filename", None) or "<dict>"} has no "model"')
    ckpt = None
    if checkpoint is not None:
        ckpt = load_checkpoint_file(checkpoint, map_location='cpu')
        check_trained_bands(ckpt, cfg, str(checkpoint), getattr(cfg, 'filename', None))
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = cfg.model.copy()
    model_cfg.pop('pretrained', None)
    model = MODELS.build(model_cfg)
    if ckpt is not None:
        state = clean_state_dict(ckpt)
        del ckpt
        check_state_dict_fits(state, model, str(checkpoint), 'the config model')
        model.load_state_dict(state, strict=True)
    model.cfg = cfg
    return model.to(device).eval()
