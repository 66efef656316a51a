"""Checks on scene-inference output paths, run before any tile is computed.

Whole-scene inference writes up to three files (mask, probabilities, polygons). Two options
naming the same file, an output that is the input scene or the DEM (also through a symlink or
another spelling of the path), or an output folder that cannot be written would otherwise be
found after every tile was computed, or would silently overwrite data. Outputs are written as
hidden ``.NAME.<pid>.<random>.part`` files renamed on success; :func:`remove_stale_parts`
deletes those a killed run (dead pid) left behind, as :mod:`lszoo.engine.checkpoint` does for
checkpoints.
"""
import os
import os.path as osp
import re
import uuid
from typing import Dict, List, Optional

from lszoo.engine.checkpoint import pid_alive
from lszoo.errors import ConfigError, DataError

PART_RE = re.compile(r'^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}(?:\.[\w-]+)?\.part$')


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


def part_path(path: str) -> str:
    """The temporary file an output is written to before it is renamed over ``path``."""
    d, name = osp.split(osp.abspath(path))
    return osp.join(d, f'.{name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part')


def remove_stale_parts(path: str) -> List[str]:
    """Delete the ``.part`` files of output ``path`` whose writing process is gone; returns them.

    Parts of a live process (another run writing the same output right now) are left alone.
    """
    d, name = osp.split(osp.abspath(path))
    removed = []
    if not osp.isdir(d):
        return removed
    for entry in os.listdir(d):
        m = PART_RE.match(entry)
        if m and m.group('name') == name and not pid_alive(int(m.group('pid'))):
            try:
                os.remove(osp.join(d, entry))
                removed.append(osp.join(d, entry))
            except OSError:
                pass
    return removed
