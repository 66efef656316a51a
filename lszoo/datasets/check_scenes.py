"""The full check of a dataset that reads windows of whole scenes (:class:`InventoryDataset`).

Its samples are windows drawn from a few large GeoTIFFs, so checking sample by sample reads
nothing useful, and a scene with missing tiles (a truncated download) would only fail later, in
``tools/test.py`` or scene inference. Each scene (and the DEM) is read once, block by block
(every internal tile, in bounded memory), and the first block that cannot be read is named.
"""
from typing import Dict, List, Optional, Tuple

Problem = Tuple[str, str]


def _reason(err: BaseException) -> str:
    cause = err.__cause__ or err  # rasterio's 'Read failed' wraps GDAL's own message
    text = str(cause).strip()
    return text.splitlines()[0] if text else type(err).__name__


def read_every_block(path: str) -> Optional[Problem]:
    """``(kind, message)`` of the first problem met reading every block of the raster ``path``
    (all bands), or ``None`` when the whole file reads."""
    import rasterio
    try:
        ds = rasterio.open(path)
    except rasterio.errors.RasterioError as err:
        return 'unreadable', f'{path}: cannot be opened ({_reason(err)})'
    with ds:
        for _, win in ds.block_windows(1):
            try:
                ds.read(window=win)
            except rasterio.errors.RasterioError as err:
                r0, c0 = int(win.row_off), int(win.col_off)
                return 'unreadable', (
                    f'{path}: rows {r0}:{r0 + int(win.height)}, columns '
                    f'{c0}:{c0 + int(win.width)} cannot be read ({_reason(err)}): the file is '
                    'damaged or incomplete')
    return None


def scene_files(ds) -> List[Tuple[str, str]]:
    """``(path, role)`` of the scenes and the DEM a scene-window dataset reads."""
    files = [(s['path'], 'image') for s in getattr(ds, 'scenes', [])]
    dem = getattr(ds, 'dem_path', None)
    return files + ([(dem, 'dem')] if dem else [])


def check_scene_files(ds, cache: Dict[str, Optional[Problem]]) -> List[Problem]:
    """Problems of every scene / DEM file of ``ds``; ``cache`` (path -> problem) keeps a
    file shared by several splits from being read again."""
    from .check import _file_problem
    problems = []
    for path, _ in scene_files(ds):
        if path not in cache:
            cache[path] = _file_problem(path) or read_every_block(path)
        if cache[path] is not None:
            problems.append(cache[path])
    return problems
