"""The pre-event image of each scene of an :class:`~lszoo.datasets.InventoryDataset`.

A change (bi-temporal) model trained on a mapper's own data reads, per scene, the post-event
scene and a pre-event image on any grid and CRS, warped onto the scene's grid per window as
scene inference warps it (:func:`lszoo.geo.reader.on_grid`); bands as
:mod:`lszoo.geo.pre_event` plans them (``pre_R`` is band ``R`` of the pre image).
"""
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

from lszoo.errors import ConfigError, DataError
from lszoo.geo.pre_event import PRE_PREFIX, pre_channels
from .inventory_scenes import under_root

PreSpec = Union[None, str, Sequence[str], Dict[str, str]]


def _by_name(pre: dict, scene: str) -> Optional[str]:
    p = Path(scene)
    for key in (scene, p.name, p.stem):
        if key in pre:
            return pre[key]
    return None


def resolve_pre_paths(pre: PreSpec, scenes: List[str], data_root=None) -> List[Optional[str]]:
    """The pre-event image of each scene: ``pre`` is one path (one scene), a template with
    ``{name}`` (the scene's file stem), a list in the scenes' order, or a dict from scene path,
    file name or stem to path. ``None``: no pre images."""
    if pre is None:
        return [None] * len(scenes)
    if isinstance(pre, (str, Path)):
        pre = str(pre)
        if '{name}' in pre:
            paths = [pre.format(name=Path(s).stem) for s in scenes]
        elif len(scenes) == 1:
            paths = [pre]
        else:
            raise ConfigError(f'InventoryDataset: pre={pre!r} is one file for {len(scenes)} '
                              "scenes; give a template with '{name}' (the scene's file stem), "
                              'a list in the scenes\' order or a dict scene -> pre image')
    elif isinstance(pre, dict):
        paths = [_by_name(pre, s) for s in scenes]
        missing = [s for s, p in zip(scenes, paths) if p is None]
        if missing:
            raise ConfigError(f'InventoryDataset: pre names no pre-event image for scene(s) '
                              f'{missing} (keys: {list(pre)})')
    else:
        paths = [str(p) for p in pre]
        if len(paths) != len(scenes):
            raise ConfigError(f'InventoryDataset: {len(paths)} pre-event images for '
                              f'{len(scenes)} scenes {scenes}')
    paths = [under_root(data_root, p) if data_root is not None else p for p in paths]
    for scene, path in zip(scenes, paths):
        if not Path(path).is_file():
            raise DataError(f'pre-event image {path} (of scene {scene}): file not found')
    return paths


def check_pre_images(scenes: List[str], pres: List[Optional[str]]) -> None:
    """Each pre-event image overlaps its scene and has its bands (one error naming both
    files); one that covers part of its scene is one warning."""
    from lszoo.geo.reader import check_pre_image
    for scene, pre in zip(scenes, pres):
        if pre is not None:
            check_pre_image(scene, pre, warn_partial=True)


def pair_band_streams(band_names: Sequence[str], stream_layout) -> Dict[str, str]:
    """Default streams of a bi-temporal band list: pre-event bands ``pre``, the others
    ``post`` (elevation stays ``topo``, set by the caller)."""
    pre = set(pre_channels(band_names, stream_layout))
    return {b: 'pre' if i in pre else 'post' for i, b in enumerate(band_names)}


def default_pair_bands(scene_bands: Sequence[str]) -> List[str]:
    """Every band of the post scene, then the same bands of the pre image (``pre_*``)."""
    return list(scene_bands) + [PRE_PREFIX + b for b in scene_bands]
