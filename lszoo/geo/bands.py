"""The one band plan: which raster band feeds each model channel, and the one DEM-name rule.

Scene inference (:class:`lszoo.geo.reader.SceneReader`) and
:class:`~lszoo.datasets.InventoryDataset` both assemble the model input from an image raster plus
an optional separate elevation raster (the DEM) through :func:`plan_bands`, so a band list is
accepted or refused by both alike, with the same message.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from lszoo.errors import ConfigError, DataError

#: Band names that mean elevation from the separate DEM raster (compared case-insensitively).
DEM_BAND_NAMES = ('dem', 'elevation', 'height', 'dsm')


def is_dem_band(name) -> bool:
    """Whether ``name`` is an elevation band name (:data:`DEM_BAND_NAMES`, any case)."""
    return isinstance(name, str) and name.lower() in DEM_BAND_NAMES


@dataclass
class BandPlan:
    """Where each model channel comes from: ``('img', band)`` (1-based band of the image) or
    ``('dem', 1)``, with the channel names."""

    sources: List[Tuple[str, int]]
    band_names: List[str]
    #: the image's bands were matched to the config's by position (no names to match by)
    by_position: bool = False

    @property
    def img_indexes(self) -> List[int]:
        """The image bands read, ascending."""
        return sorted({i for s, i in self.sources if s == 'img'})

    @property
    def uses_dem(self) -> bool:
        return any(s == 'dem' for s, _ in self.sources)


def _dem_hint(names: Sequence[str], has_dem: bool) -> str:
    dem_like = [b for b in names if is_dem_band(b)]
    if not dem_like or has_dem:
        return ''
    return (f'; {dem_like} name(s) elevation ({", ".join(DEM_BAND_NAMES)}, any case), read from '
            'a separate DEM raster, and none was given (--dem, or dem= of InventoryDataset)')


def _named_bands(img_names: List[str], n_img: int, image_names: Sequence[str], source: str,
                 has_dem: bool) -> dict:
    image_names = list(image_names)
    if len(image_names) != n_img:
        raise DataError(f'{source} has {n_img} bands but {len(image_names)} band names were '
                        f'given: {image_names}')
    missing = [b for b in img_names if b not in image_names]
    if missing:
        raise DataError(f'{source} lacks band(s) {missing} that the config needs (its bands: '
                        f'{image_names}){_dem_hint(missing, has_dem)}')
    return {b: image_names.index(b) + 1 for b in img_names}


def _bands_in_order(img_names: List[str], n_img: int, source: str, has_dem: bool) -> dict:
    unique = list(dict.fromkeys(img_names))
    if len(unique) != n_img:
        hint = ' (the DEM comes from the DEM raster)' if has_dem else \
            (' (pass the DEM with --dem?)' if any(is_dem_band(b) for b in unique) else '')
        raise DataError(f'{source} has {n_img} band(s) but the config needs {len(unique)} image '
                        f'band(s) {unique}{hint}')
    return {b: i + 1 for i, b in enumerate(unique)}


def _default_plan(n_img: int, image_names, has_dem: bool, source: str,
                  in_channels: Optional[int]) -> BandPlan:
    n_dem = int(has_dem)
    if in_channels is not None and n_img + n_dem != in_channels:
        raise DataError(f'{source} has {n_img} band(s){" + 1 DEM band" if n_dem else ""}, the '
                        f'model expects {in_channels} channels')
    names = list(image_names) if image_names else [f'band{i + 1}' for i in range(n_img)]
    return BandPlan([('img', i + 1) for i in range(n_img)] + [('dem', 1)] * n_dem,
                    names + ['DEM'] * n_dem)


def plan_bands(bands: Optional[Sequence[str]], n_img: int,
               image_names: Optional[Sequence[str]] = None,
               descriptions: Sequence[Optional[str]] = (), dem: Optional[str] = None,
               source: str = 'the image', in_channels: Optional[int] = None) -> BandPlan:
    """The band plan of the config's ``bands`` over an image of ``n_img`` bands and an optional
    DEM raster ``dem`` (its path, for messages).

    A band named by :func:`is_dem_band` comes from the DEM when one is given; every other band
    is an image band, found by name in ``image_names`` (the names given for the image's bands),
    else in the image's ``descriptions`` when they name every needed band, else the config's
    image bands are the image's bands in order. ``bands=None``: every image band, then the DEM.

    Raises:
        DataError: the image lacks a band, or its band count does not match; a DEM is given but
            no band uses it.
        ConfigError: the plan's channel count differs from ``in_channels``.
    """
    has_dem = dem is not None
    if bands is None:
        return _default_plan(n_img, image_names, has_dem, source, in_channels)
    names = list(bands)
    from_dem = [has_dem and is_dem_band(b) for b in names]
    if has_dem and not any(from_dem):
        raise DataError(f'DEM {dem} given, but the bands {names} hold no elevation band (one '
                        f'of {DEM_BAND_NAMES}, any case)')
    img_names = [b for b, d in zip(names, from_dem) if not d]
    if image_names is None:
        desc = [d for d in descriptions if d]
        if len(desc) == n_img and set(img_names) <= set(desc):
            image_names = list(descriptions)
    if image_names is not None:
        where = _named_bands(img_names, n_img, image_names, source, has_dem)
    else:
        where = _bands_in_order(img_names, n_img, source, has_dem)
    plan = BandPlan([('dem', 1) if d else ('img', where[b]) for b, d in zip(names, from_dem)],
                    names, by_position=image_names is None)
    if in_channels is not None and len(plan.sources) != in_channels:
        raise ConfigError(f'config bands {names} give {len(plan.sources)} channels but the '
                          f'model expects in_channels={in_channels}')
    return plan
