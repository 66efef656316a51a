"""High-level Python API (inference, scene mapping)."""
from .scene_inference import SceneResult, init_scene_model, map_scene  # noqa: F401
