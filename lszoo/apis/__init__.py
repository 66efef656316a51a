"""High-level Python API: whole-scene landslide mapping (:mod:`lszoo.apis.scene`)."""
from .scene import SceneOptions, SceneResult, init_scene_model, map_scene  # noqa: F401
