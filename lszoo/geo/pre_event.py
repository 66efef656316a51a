"""The pre-event image of a bi-temporal (change) model: its channels, band plan and checks.

Bi-temporal configs name their dates' streams ``post`` and ``pre`` (``stream_layout``); the
``pre`` channels come from a second raster, the pre-event image, on any grid and CRS: it is
warped onto the post-event image's grid per read window, as a separate DEM is
(:func:`lszoo.geo.reader.open_on_grid`). A pre channel's band is found in the pre image under
the post image's band name: GVLM's ``pre_`` prefix is stripped (``'pre_R'`` is band ``'R'`` of
the pre image), so both dates use one band naming. Scene inference
(:class:`~lszoo.geo.reader.SceneReader`) and :class:`~lszoo.datasets.InventoryDataset` use the
same plan and the same checks.
"""
from typing import List, Optional, Sequence

from lszoo.errors import ConfigError, DataError

from .bands import BandPlan, plan_bands

PRE_STREAM = 'pre'
PRE_PREFIX = 'pre_'


def pre_channels(bands: Optional[Sequence[str]], stream_layout=None) -> List[int]:
    """The channels of the pre-event date: the ``pre`` stream of ``stream_layout`` (indices or
    band names), else the bands named ``pre_*``."""
    names = list(bands or [])
    layout = dict(stream_layout or {})
    if PRE_STREAM in layout:
        return sorted(names.index(c) if isinstance(c, str) else int(c)
                      for c in layout[PRE_STREAM])
    return [i for i, b in enumerate(names) if isinstance(b, str) and b.startswith(PRE_PREFIX)]


def pre_band_name(name: str) -> str:
    """The pre image's band name of a pre channel: ``'pre_R'`` -> ``'R'``."""
    return name[len(PRE_PREFIX):] if name.startswith(PRE_PREFIX) else name


def check_pre_given(bands, stream_layout, pre: Optional[str], config: str = 'the config',
                    option: str = '--pre (pre= of map_scene)') -> bool:
    """Whether the config is bi-temporal; a bi-temporal config without a pre image, or a pre
    image for a single-date config, is a :class:`ConfigError` naming ``option``."""
    chans = pre_channels(bands, stream_layout)
    names = [list(bands)[c] for c in chans] if bands else chans
    if chans and pre is None:
        raise ConfigError(
            f'{config} is a bi-temporal (change) model: its channels {names} are the pre-event '
            f'image (stream {PRE_STREAM!r}); give that image with {option}')
    if pre is not None and not chans:
        raise ConfigError(
            f'{option} {pre} given, but {config} is a single-date model (no {PRE_STREAM!r} '
            f'stream in its stream_layout {dict(stream_layout or {})}, no pre_* band in '
            f'{list(bands or [])}); map it without a pre-event image, or use a change config '
            '(docs/change_detection.md)')
    return bool(chans)


def check_same_bands(post, post_path: str, pre, pre_path: str) -> None:
    """The two dates share one encoder, so they need the same bands: same count and, when both
    files describe their bands, the same descriptions. ``post``/``pre``: open datasets."""
    if post.count != pre.count:
        raise DataError(f'pre-event image {pre_path} has {pre.count} band(s), the post-event '
                        f'image {post_path} has {post.count}: both dates need the same bands, '
                        'in the same order')
    a, b = list(post.descriptions), list(pre.descriptions)
    if all(a) and all(b) and a != b:
        raise DataError(f'pre-event image {pre_path} has bands {b}, the post-event image '
                        f'{post_path} has {a}: both dates need the same bands, in the same '
                        'order (reorder one, e.g. gdal_translate -b, or fix the descriptions)')


def plan_pair_bands(bands: Optional[Sequence[str]], stream_layout, n_img: int,
                    image_names: Optional[Sequence[str]] = None,
                    descriptions: Sequence[Optional[str]] = (),
                    pre_descriptions: Sequence[Optional[str]] = (), dem: Optional[str] = None,
                    source: str = 'the image', pre_source: str = 'the pre-event image',
                    in_channels: Optional[int] = None) -> BandPlan:
    """The band plan of a bi-temporal config: its pre channels as ``('pre', band)`` of the pre
    image, every other channel as :func:`~lszoo.geo.bands.plan_bands` gives it over the post
    image (and DEM). Both images have ``n_img`` bands (:func:`check_same_bands`);
    ``image_names`` (``--bands``) names the bands of both."""
    if bands is None:
        raise ConfigError('a pre-event image needs the config\'s `bands` (which channels are '
                          'pre-event, which post-event); the config has none')
    names = list(bands)
    pre = set(pre_channels(names, stream_layout))
    post_plan = plan_bands([b for i, b in enumerate(names) if i not in pre], n_img,
                           image_names, descriptions, dem, source)
    pre_plan = plan_bands([pre_band_name(b) for i, b in enumerate(names) if i in pre], n_img,
                          image_names, pre_descriptions, None, pre_source)
    post_src, pre_src = iter(post_plan.sources), iter(pre_plan.sources)
    sources = [('pre', next(pre_src)[1]) if i in pre else next(post_src)
               for i in range(len(names))]
    if in_channels is not None and len(sources) != in_channels:
        raise ConfigError(f'config bands {names} give {len(sources)} channels but the model '
                          f'expects in_channels={in_channels}')
    return BandPlan(sources, names, by_position=post_plan.by_position)


def pre_then_post_order(bands: Optional[Sequence[str]], stream_layout=None
                        ) -> Optional[List[int]]:
    """The config's channels in the order of one raster stacking both dates: the pre-event
    channels, then every other one (post-event, then e.g. a DEM), each in config order;
    ``None`` for a single-date config. ``stack[:, k]`` is config channel ``order[k]``."""
    pre = pre_channels(bands, stream_layout)
    if not pre:
        return None
    return pre + [c for c in range(len(list(bands or []))) if c not in pre]
