"""A STAC Item beside every scene output: where, when, what files, made by which model.

The Item's footprint is the input raster's extent reprojected to EPSG:4326 (densified edges);
its ``datetime`` is the input's acquisition time when the GeoTIFF carries ``TIFFTAG_DATETIME``,
otherwise the processing time (``lszoo:datetime_source`` says which). Assets: the mask and the
probability map (Cloud-Optimized GeoTIFFs), the polygon inventory and the quicklook, each with
roles and media type, hrefs relative to the Item file. Provenance uses the STAC processing
extension (``processing:software``, ``processing:lineage``, ``processing:datetime``) plus
``lszoo:*`` fields for the model, config and checkpoint hashes and the threshold.

pystac ships only the core STAC schemas, so :func:`validate_item` validates the core Item schema
offline and checks the extension fields' types itself; ``item.validate()`` (which downloads the
extension schemas) is used instead when ``offline=False``.
"""
import datetime as dt
import json
import os
import os.path as osp
from typing import Dict, List, Optional

import rasterio
from rasterio.warp import transform_geom

from lszoo.errors import ConfigError
from lszoo.utils.fileio import atomic_write_json

PROCESSING_EXT = 'https://stac-extensions.github.io/processing/v1.2.0/schema.json'
MEDIA = {
    '.tif': 'image/tiff; application=geotiff; profile=cloud-optimized',
    '.gpkg': 'application/geopackage+sqlite3',
    '.geojson': 'application/geo+json',
    '.png': 'image/png',
}
ROLES = {'mask': ['data'], 'probabilities': ['data'], 'polygons': ['data'],
         'uncertainty': ['data'],
         'quicklook': ['overview', 'visual']}
TITLES = {'mask': 'Landslide mask (1 landslide, 0 background, 255 nodata)',
          'probabilities': 'Landslide probability (float32, 0..1)',
          'polygons': 'Landslide polygon inventory',
          'uncertainty': 'Per-pixel uncertainty (float32; TTA spread or entropy, see its band '
                         'description)',
          'quicklook': 'Quicklook: map figure of the landslide outlines over RGB'}


def require_pystac():
    try:
        import pystac
    except ImportError as err:
        raise ConfigError(f'STAC items need the `pystac` package ({err}); install it with '
                          '`pip install pystac` (a dependency of lszoo)') from None
    return pystac


def acquisition_time(src) -> Optional[dt.datetime]:
    """``TIFFTAG_DATETIME`` (``YYYY:MM:DD HH:MM:SS``, taken as UTC) of an open dataset."""
    raw = src.tags().get('TIFFTAG_DATETIME')
    if not raw:
        return None
    for fmt in ('%Y:%m:%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S'):
        try:
            return dt.datetime.strptime(raw.strip(), fmt).replace(tzinfo=dt.timezone.utc)
        except ValueError:
            continue
    return None


def footprint(src, densify: int = 21):
    """(GeoJSON polygon, bbox) of the dataset's extent in EPSG:4326; ``(None, None)`` without
    a CRS."""
    if src.crs is None:
        return None, None
    l, b, r, t = src.bounds
    n = densify
    ring = ([(l + (r - l) * i / n, t) for i in range(n)] + [(r, t + (b - t) * i / n)
                                                              for i in range(n)]
            + [(r - (r - l) * i / n, b) for i in range(n)] + [(l, b + (t - b) * i / n)
                                                               for i in range(n)])
    ring.append(ring[0])
    geom = transform_geom(src.crs, 'EPSG:4326', {'type': 'Polygon', 'coordinates': [ring]})
    xs = [p[0] for p in geom['coordinates'][0]]
    ys = [p[1] for p in geom['coordinates'][0]]
    return geom, [min(xs), min(ys), max(xs), max(ys)]


def scene_item(item_path: str, input_path: str, assets: Dict[str, Optional[str]], *,
               model: str, config_sha256: Optional[str], checkpoint_sha256: Optional[str],
               threshold: float, version: str, extra: Optional[dict] = None,
               pre_path: Optional[str] = None):
    """Build the :class:`pystac.Item` for the outputs in ``assets`` (name -> path or None).

    The inputs are ``derived_from`` links (``input_path``, and ``pre_path``, the pre-event image
    of a change model) and named in ``lszoo:inputs`` and the lineage."""
    pystac = require_pystac()
    from pystac.extensions.projection import ProjectionExtension

    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    with rasterio.open(input_path) as src:
        geom, bbox = footprint(src)
        when = acquisition_time(src)
        epsg = src.crs.to_epsg() if src.crs else None
        shape, transform = [src.height, src.width], list(src.transform)[:6]
        bounds = list(src.bounds)
    props = {
        'lszoo:datetime_source': 'TIFFTAG_DATETIME' if when else 'processing time',
        'processing:software': {'lszoo': version},
        'processing:lineage': _lineage(input_path, pre_path, model, threshold),
        'lszoo:inputs': {k: osp.basename(v) for k, v in _inputs(input_path, pre_path).items()},
        'processing:datetime': now.isoformat().replace('+00:00', 'Z'),
        'lszoo:model': model,
        'lszoo:config_sha256': config_sha256,
        'lszoo:checkpoint_sha256': checkpoint_sha256,
        'lszoo:threshold': float(threshold),
    }
    props.update(extra or {})
    item_id = osp.splitext(osp.basename(item_path))[0].replace('.stac', '')
    item = pystac.Item(item_id, geometry=geom, bbox=bbox, datetime=when or now,
                       properties=props, stac_extensions=[PROCESSING_EXT])
    proj = ProjectionExtension.ext(item, add_if_missing=True)
    proj.apply(epsg=epsg, shape=shape, transform=transform,
               bbox=bounds if epsg is not None else None)
    base = osp.dirname(osp.abspath(item_path))
    for role, path in _inputs(input_path, pre_path).items():
        item.add_link(pystac.Link('derived_from', osp.relpath(osp.abspath(path), base),
                                  media_type='image/tiff; application=geotiff',
                                  title=INPUT_TITLES[role]))
    for name, path in assets.items():
        if path is None:
            continue
        ext = osp.splitext(path)[1].lower()
        item.add_asset(name, pystac.Asset(
            href=osp.relpath(osp.abspath(path), base), media_type=MEDIA.get(ext),
            roles=ROLES.get(name, ['data']), title=TITLES.get(name)))
    return item


INPUT_TITLES = {'input': 'Input image', 'post': 'Post-event image',
                'pre': 'Pre-event image'}


def _inputs(input_path: str, pre_path: Optional[str]) -> Dict[str, str]:
    return {'input': input_path} if pre_path is None else {'post': input_path, 'pre': pre_path}


def _lineage(input_path: str, pre_path: Optional[str], model: str, threshold: float) -> str:
    what = f'landslide segmentation of {osp.basename(input_path)}' if pre_path is None else (
        f'landslide change segmentation of the post-event image {osp.basename(input_path)} '
        f'against the pre-event image {osp.basename(pre_path)}')
    return f'{what} with {model}, probability threshold {threshold:g}'


def write_item(item, path: str) -> str:
    """Write ``item`` as JSON to ``path`` atomically (hrefs as given: relative)."""
    atomic_write_json(path, item.to_dict(include_self_link=False, transform_hrefs=False))
    return path


def _extension_problems(d: dict) -> List[str]:
    p = d.get('properties', {})
    problems = []
    sw = p.get('processing:software')
    if not (isinstance(sw, dict) and sw and all(isinstance(v, str) for v in sw.values())):
        problems.append('processing:software must be a non-empty {name: version} object')
    if not isinstance(p.get('processing:lineage'), str):
        problems.append('processing:lineage must be a string')
    try:
        dt.datetime.fromisoformat(p['processing:datetime'].replace('Z', '+00:00'))
    except (KeyError, AttributeError, ValueError):
        problems.append('processing:datetime must be an RFC 3339 date-time')
    for key in ('lszoo:config_sha256', 'lszoo:checkpoint_sha256'):
        v = p.get(key)
        if v is not None and not (isinstance(v, str) and len(v) == 64):
            problems.append(f'{key} must be a SHA-256 hex digest or null')
    if not isinstance(p.get('lszoo:threshold'), float):
        problems.append('lszoo:threshold must be a number')
    for name, a in d.get('assets', {}).items():
        if not a.get('type') or not a.get('roles'):
            problems.append(f'asset {name} lacks a media type or roles')
    return problems


def validate_item(item_or_path, offline: bool = True) -> List[str]:
    """Validate a STAC Item (object or JSON path); raises on schema errors, returns the
    schema URIs checked. ``offline``: core schema (bundled with pystac) + own extension checks.
    """
    pystac = require_pystac()
    from pystac.validation import validate_dict

    if isinstance(item_or_path, (str, os.PathLike)):
        with open(item_or_path) as f:
            d = json.load(f)
    else:
        d = item_or_path.to_dict(include_self_link=False, transform_hrefs=False)
    if not offline:
        return validate_dict(d)
    core = dict(d, stac_extensions=[])
    checked = validate_dict(core, stac_object_type=pystac.STACObjectType.ITEM)
    problems = _extension_problems(d)
    if problems:
        raise pystac.errors.STACValidationError('; '.join(problems))
    return checked
