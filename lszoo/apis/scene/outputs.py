"""Checks on scene-inference output paths, run before any tile is computed.

Whole-scene inference writes up to three files (mask, probabilities, polygons). Two options
naming the same file, an output that is the input scene or the DEM (also through a symlink or
another spelling of the path), or an output folder that cannot be written would otherwise be
found after every tile was computed, or would silently overwrite data. Outputs are written as
hidden temporaries (:mod:`lszoo.utils.fileio`'s ``.NAME.lszoo-tmp-<pid>``) renamed on success;
:func:`remove_stale_parts` deletes those a killed run (dead pid) left behind.
"""
import os
import os.path as osp
from typing import Dict, List, Optional

from lszoo.errors import ConfigError, DataError
from lszoo.utils.fileio import remove_stale_temp_files, temp_path


def _real(path: str) -> str:
    """Canonical path: symlinks resolved (also of a file that does not exist yet)."""
    return osp.realpath(osp.abspath(osp.expanduser(path)))


def check_output_files(outputs: Dict[str, Optional[str]],
                       inputs: Dict[str, Optional[str]]) -> None:
    """Refuse outputs that coincide with each other or with an input, or cannot be written.

    Args:
        outputs: option name -> path (``None`` when not asked for), e.g.
            ``{'OUTPUT': 'mask.tif', '--prob': 'p.tif', '--polygons': None}``.
        inputs: option name -> path of every file read, e.g. ``{'INPUT': 'scene.tif',
            '--dem': None}``.

    Raises:
        ConfigError: two outputs are the same file.
        DataError: an output is an input, its folder does not exist or is not writable, or the
            output itself exists and cannot be replaced.
    """
    seen = {}
    real_inputs = {_real(p): (k, p) for k, p in inputs.items() if p}
    for key, path in outputs.items():
        if not path:
            continue
        real = _real(path)
        if real in seen:
            other_key, other = seen[real]
            same = '' if other == path else f' ({other} and {path} are the same file)'
            raise ConfigError(f'{other_key} and {key} both name {other}{same}: each output '
                              'needs its own file')
        seen[real] = (key, path)
        if real in real_inputs:
            in_key, in_path = real_inputs[real]
            how = '' if osp.abspath(path) == osp.abspath(in_path) else \
                f' (both resolve to {real})'
            raise DataError(f'{key} {path} is the {in_key} file {in_path}{how}: writing it '
                            'would destroy the input; choose another output path')
        folder = osp.dirname(real)
        if not osp.isdir(folder):
            raise DataError(f'{key} {path}: output folder {folder} does not exist')
        if not os.access(folder, os.W_OK | os.X_OK):
            raise DataError(f'{key} {path}: output folder {folder} is not writable')
        if osp.isdir(real):
            raise DataError(f'{key} {path} is a folder; give a file name')


GEOTIFF_EXTS = ('.tif', '.tiff')


def check_geotiff_names(outputs: Dict[str, Optional[str]]) -> None:
    """The raster outputs (option name -> path) are written as GeoTIFFs, so their names must
    end in ``.tif`` / ``.tiff`` (any case): ``mask.png`` would be a GeoTIFF under a PNG name."""
    for key, path in outputs.items():
        if path and not path.lower().endswith(GEOTIFF_EXTS):
            ext = osp.splitext(path)[1] or 'no extension'
            raise ConfigError(f'{key} {path}: this output is written as a GeoTIFF, so its name '
                              f'must end in {" or ".join(GEOTIFF_EXTS)} (got {ext})')


def part_path(path: str) -> str:
    """The temporary file an output is written to before it is renamed over ``path``."""
    return temp_path(osp.abspath(path))


def remove_stale_parts(path: str) -> List[str]:
    """Delete the temporaries of output ``path`` whose writing process is gone; returns them.

    Those of a live process (another run writing the same output right now) are left alone.
    """
    d, name = osp.split(osp.abspath(path))
    return remove_stale_temp_files(d, name)
