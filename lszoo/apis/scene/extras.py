"""What scene inference writes after the rasters: the quicklook PNG and the STAC Item.

Both are written once the mask (and probabilities, polygons) are published under their final
names, so the Item only ever lists files that exist. The Item goes to ``<mask stem>.stac.json``
beside the mask, the quicklook by default to ``<mask stem>_quicklook.png``.

An extra never turns a finished mapping into a failure: when one cannot be written (or the STAC
Item cannot be schema-validated), one ``lszoo: warning:`` line names the extra and the reason, and
the mask, probabilities and polygons stay as written.
"""
import os.path as osp
import sys
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


def warn_extra(what: str, err: BaseException) -> None:
    """One line on stderr: which extra was not made, and why."""
    reason = f'{type(err).__name__}: {err}'.splitlines()[0]
    print(f'lszoo: warning: {what}: {reason} (the mask and other outputs are complete)',
          file=sys.stderr, flush=True)


def write_scene_extras(input_path: str, mask: str, *, prob: Optional[str] = None,
                       polygons: Optional[str] = None, quicklook: Optional[str] = None,
                       stac: bool = True, cfg=None, model_file: Optional[str] = None,
                       threshold: float = 0.5, band_names: Optional[Sequence[str]] = None,
                       extra: Optional[dict] = None,
                       pre: Optional[str] = None,
                       uncertainty: Optional[str] = None) -> Optional[str]:
    """Write the quicklook (when ``quicklook`` is a path) and the STAC Item (when ``stac``).

    ``pre``: the pre-event image of a change model, recorded in the Item beside the input.
    ``model_file`` is the checkpoint or ONNX file (hashed into the Item). Returns the Item path,
    or None when no Item was written. Failures are warnings (module docstring), never errors.
    """
    if quicklook is not None:
        try:
            from lszoo.geo.quicklook import write_quicklook
            write_quicklook(input_path, mask, quicklook,
                            band_names=list(band_names) if band_names else None)
        except Exception as err:  # noqa: BLE001  (any failure of an extra is only a warning)
            warn_extra(f'quicklook {quicklook} not written', err)
            quicklook = None
    if not stac:
        return None
    path = stac_path_for(mask)
    try:
        from lszoo.geo.stac import scene_item, write_item
        item = scene_item(
            path, input_path,
            dict(mask=mask, probabilities=prob, polygons=polygons, quicklook=quicklook,
                 uncertainty=uncertainty),
            model=model_name(cfg, model_file), config_sha256=config_sha256(cfg),
            checkpoint_sha256=sha256_file(model_file) if model_file and osp.isfile(model_file)
            else None, threshold=threshold, version=__version__, extra=extra, pre_path=pre)
        write_item(item, path)
    except Exception as err:  # noqa: BLE001
        warn_extra(f'STAC Item {path} not written', err)
        return None
    _validate_written(path)
    return path


def _validate_written(path: str) -> None:
    """Schema-check the written Item; a validator that is missing or disagrees is a warning."""
    from lszoo.geo.stac import validate_item
    try:
        validate_item(path)
    except Exception as err:  # noqa: BLE001
        warn_extra(f'STAC Item {path} written but not validated', err)
