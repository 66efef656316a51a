"""What scene inference writes after the rasters: the quicklook PNG and the STAC Item.

Both are written once the mask (and probabilities, polygons) are published under their final
names, so the Item only ever lists files that exist. The Item goes to ``<mask stem>.stac.json``
beside the mask, the quicklook by default to ``<mask stem>_quicklook.png``.
"""
import os.path as osp
from typing import Optional, Sequence

from lszoo.utils.fileio import sha256_file, sha256_text
from lszoo.version import __version__


def stac_path_for(mask_path: str) -> str:
    return osp.splitext(mask_path)[0] + '.stac.json'


def config_sha256(cfg) -> Optional[str]:
    """SHA-256 of the config text (as the provenance hook records it)."""
    if cfg is None:
        return None
    try:
        text = cfg.pretty_text
    except Exception:  # configs holding objects yapf cannot format
        text = repr(cfg.to_dict())
    return sha256_text(text)


def model_name(cfg, model_file: Optional[str] = None) -> str:
    """The config file's stem (else the segmentor/backbone types), plus the model file name."""
    name = None
    if cfg is not None and getattr(cfg, 'filename', None):
        name = osp.splitext(osp.basename(cfg.filename))[0]
    elif cfg is not None and cfg.get('model'):
        m = cfg.model
        name = f"{m.get('type')}/{(m.get('backbone') or {}).get('type')}"
    name = name or 'unknown model'
    return name + (f' ({osp.basename(model_file)})' if model_file else '')


def write_scene_extras(input_path: str, mask: str, *, prob: Optional[str] = None,
                       polygons: Optional[str] = None, quicklook: Optional[str] = None,
                       stac: bool = True, cfg=None, model_file: Optional[str] = None,
                       threshold: float = 0.5, band_names: Optional[Sequence[str]] = None,
                       extra: Optional[dict] = None) -> Optional[str]:
    """Write the quicklook (when ``quicklook`` is a path) and the STAC Item (when ``stac``).

    ``model_file`` is the checkpoint or ONNX file (hashed into the Item). Returns the Item path.
    """
    if quicklook is not None:
        from lszoo.geo.quicklook import write_quicklook
        input_names = list(band_names) if band_names else None
        write_quicklook(input_path, mask, quicklook, band_names=input_names)
    if not stac:
        return None
    from lszoo.geo.stac import scene_item, validate_item, write_item
    path = stac_path_for(mask)
    item = scene_item(
        path, input_path,
        dict(mask=mask, probabilities=prob, polygons=polygons, quicklook=quicklook),
        model=model_name(cfg, model_file), config_sha256=config_sha256(cfg),
        checkpoint_sha256=sha256_file(model_file) if model_file and osp.isfile(model_file)
        else None, threshold=threshold, version=__version__, extra=extra)
    validate_item(item)
    return write_item(item, path)
