"""The value steps of a config's test pipeline, as applied to a tile cut from a scene.

Scene inference (in numpy) and the ONNX export (inside the graph) both apply the test pipeline
minus the steps that do not apply to a tile: file loading, geometry and packing.
"""
from typing import List, Tuple

from lszoo.errors import ConfigError


def test_pipeline_of(cfg) -> list:
    """The config's ``test_pipeline`` (or the test loader's pipeline); ``[]`` if it has none."""
    pipeline = cfg.get('test_pipeline')
    if pipeline is None:
        loader = cfg.get('test_dataloader') or {}
        pipeline = (loader.get('dataset') or {}).get('pipeline')
    return list(pipeline or [])


def not_for_tiles() -> tuple:
    """Transform classes that load files, change geometry or pack samples."""
    from mmcv.transforms import (LoadAnnotations, LoadImageFromFile, Pad, RandomFlip,
                                 RandomResize, Resize, TestTimeAug)
    from mmseg.datasets.transforms import PackSegInputs, RandomCrop, RandomRotate

    from .augment import RandomRot90
    from .inventory_loading import LoadInventoryWindow
    from .loading import LoadLandslideAnnotations, LoadLandslideSample
    return (LoadImageFromFile, LoadAnnotations, LoadLandslideSample, LoadLandslideAnnotations,
            LoadInventoryWindow, Resize, RandomResize, RandomFlip, RandomCrop, RandomRotate,
            RandomRot90, Pad, TestTimeAug, PackSegInputs)


def tile_value_steps(cfg) -> List[Tuple[str, object]]:
    """``(name, transform)`` of every test-pipeline step of ``cfg`` that applies to a tile,
    built in order; a step that cannot be built is a :class:`ConfigError` naming it."""
    from mmseg.registry import TRANSFORMS

    skip = not_for_tiles()
    steps = []
    for t in test_pipeline_of(cfg):
        name = t['type'] if isinstance(t['type'], str) else t['type'].__name__
        try:
            step = TRANSFORMS.build(t)
        except Exception as err:
            raise ConfigError(f'test_pipeline transform {name}: cannot build it ({err})') from err
        if not isinstance(step, skip):
            steps.append((name, step))
    return steps
