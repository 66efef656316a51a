"""High-level Python API: building a model (:func:`init_model`, as mmseg names it) and
whole-scene landslide mapping (:mod:`lszoo.apis.scene`)."""
from .inference import init_model  # noqa: F401
from .scene import SceneOptions, SceneResult, init_scene_model, map_scene  # noqa: F401
