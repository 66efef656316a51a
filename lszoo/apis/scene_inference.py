"""Whole-scene landslide mapping: GeoTIFF in, georeferenced mask, probabilities and polygons out.

The scene is never read whole. It is cut into a fixed grid of overlapping ``tile`` x ``tile``
tiles (stride ``tile - overlap``; the last row/column is shifted back to end on the scene edge) and
processed in square blocks of ``window`` pixels in raster order: the tiles whose origin lies in a
block are read with one rasterio window read, predicted in batches, and cached until every block
they cover is finished; a finished block is blended, thresholded and written as one window of the
output GeoTIFFs. Memory is therefore bounded by the block size plus the cached tiles that hang over
into the next block row (about ``width x tile`` 16-bit values), not by the scene size.

**Blending.** Each tile's probabilities are weighted by a ramp that falls towards the tile edges
over ``overlap`` pixels (a pyramid window, as in Huang et al., "Tiling and stitching segmentation
output for remote sensing", IEEE GRSL 2018: predictions near tile borders see less context and are
worse), so neighbouring tiles fade into each other without seams. Probabilities are quantised to
16 bits and weights to integers and accumulated in ``int64``: integer sums do not depend on the
order in which tiles arrive, so the mask is bit-identical whatever the block (read window) size
and the number of processes, as long as each tile's forward pass is (same device and threads).

**Distributed.** Under ``torch.distributed`` (``torchrun``, gloo on CPU) each rank predicts a
contiguous share of every block's batches, rank 0 gathers the tiles, blends and writes. Batches
are formed over the block's tile list independently of the world size.

**Input bands.** The model input is assembled in the config's band order (``bands`` of the dataset
base config): image bands from the input GeoTIFF (matched by name when ``input_bands`` or the
GeoTIFF band descriptions name them, otherwise in order), elevation bands (``DEM``) from a separate
``dem`` raster, reprojected and resampled to the image grid on the fly with a
:class:`rasterio.vrt.WarpedVRT`. Values must be on the scale the dataset's loading transform
produces; the normalisation transforms of the config's ``test_pipeline`` are then applied to each
tile exactly as in testing (see ``docs/scene_inference.md``).
"""
from __future__ import annotations

import os
import os.path as osp
import time
import uuid
import warnings
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import rasterio
import torch
from rasterio.enums import MaskFlags, Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from ..errors import CheckpointError, ConfigError, DataError
from .polygons import PolygonCollector, vector_driver

DEM_BAND_NAMES = ('dem', 'elevation', 'height', 'dsm')
# pipeline transforms that load files, change geometry or pack samples; everything else in the
# config's test pipeline (normalisation, NaN handling, band selection ...) is applied to tiles
_SKIP_TRANSFORM_PREFIXES = ('Load', 'Pack', 'Resize', 'RandomResize', 'RandomCrop', 'RandomFlip',
                            'RandomRotate', 'Pad', 'CenterCrop', 'TestTimeAug', 'MultiScaleFlip')
MASK_NODATA = 255
QUANT = 65535  # probabilities are stored as round(p * QUANT) in uint16
OUT_BLOCK = 256  # internal tile size of the output GeoTIFFs


# --------------------------------------------------------------------------------------------
# model
# --------------------------------------------------------------------------------------------
def _load_config(config):
    from mmengine.config import Config

    if isinstance(config, Config):
        return config
    if isinstance(config, dict):
        return Config(config)
    path = os.fspath(config)
    if not osp.isfile(path):
        raise ConfigError(f'config file {path} does not exist')
    return Config.fromfile(path)


def load_scene_checkpoint(model: torch.nn.Module, checkpoint: str) -> None:
    """Load a local checkpoint into ``model`` through lszoo's safe loader (weights_only)."""
    try:
        from lszoo.engine.checkpoint import load_checkpoint_file
    except ImportError:  # pragma: no cover - the safety helper's module is part of lszoo
        load_checkpoint_file = None
    if load_checkpoint_file is not None:
        ckpt = load_checkpoint_file(checkpoint, map_location='cpu')
    else:  # pragma: no cover
        ckpt = torch.load(checkpoint, map_location='cpu', weights_only=True)
    state = ckpt.get('state_dict', ckpt)
    state = {k[7:] if k.startswith('module.') else k: v for k, v in state.items()}
    own = model.state_dict()
    shapes = [f'{k} {tuple(v.shape)} vs {tuple(own[k].shape)}' for k, v in state.items()
              if k in own and hasattr(v, 'shape') and tuple(v.shape) != tuple(own[k].shape)]
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if shapes or missing or unexpected:
        raise CheckpointError(
            f'checkpoint {checkpoint} does not match the config model: '
            f'{len(shapes)} shape mismatch(es) {shapes[:3]}, {len(missing)} missing key(s) '
            f'{missing[:3]}, {len(unexpected)} unexpected key(s) {unexpected[:3]}')
    model.load_state_dict(state, strict=True)


def init_scene_model(config, checkpoint: Optional[str] = None, device: str = 'cpu'):
    """Build the segmentor of ``config`` (path, dict or Config) and load ``checkpoint``.

    Returns ``(model, cfg)`` with the model in eval mode on ``device``.
    """
    import lszoo  # noqa: F401  (registers lszoo modules)
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    cfg = _load_config(config)
    if 'model' not in cfg:
        raise ConfigError(f'config {getattr(cfg, "filename", None) or "<dict>"} has no "model"')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = cfg.model.copy()
    for key in ('pretrained', ):
        model_cfg.pop(key, None)
    model = MODELS.build(model_cfg)
    if checkpoint is not None:
        load_scene_checkpoint(model, checkpoint)
    model.to(device).eval()
    return model, cfg


def build_normalizer(cfg, band_names: Sequence[str], stream_layout=None) -> Callable:
    """The per-tile normalisation of ``cfg``: its test pipeline minus loading/geometry/packing.

    Returns ``f(img HxWxC float32) -> HxWxC float32``. A config without a test pipeline, or whose
    pipeline has nothing left, gives the identity.
    """
    from mmseg.registry import TRANSFORMS

    pipeline = cfg.get('test_pipeline')
    if pipeline is None:
        try:
            pipeline = cfg.test_dataloader.dataset.pipeline
        except AttributeError:
            pipeline = []
    steps = []
    for t in pipeline or []:
        name = t['type'] if isinstance(t['type'], str) else t['type'].__name__
        if name.startswith(_SKIP_TRANSFORM_PREFIXES):
            continue
        try:
            steps.append((name, TRANSFORMS.build(t)))
        except Exception as err:
            raise ConfigError(f'test_pipeline transform {name}: cannot build it ({err})') from err
    bands = list(band_names)

    def normalize(img: np.ndarray) -> np.ndarray:
        results = dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2],
                       band_names=bands, stream_layout=stream_layout, seg_fields=[],
                       img_path=None, reduce_zero_label=False)
        for name, step in steps:
            try:
                results = step(results)
            except Exception as err:
                raise ConfigError(f'test_pipeline transform {name} failed on a scene tile '
                                  f'({type(err).__name__}: {err})') from err
            if results is None:
                raise ConfigError(f'test_pipeline transform {name} dropped a scene tile')
        out = np.asarray(results['img'], dtype=np.float32)
        if out.shape[:2] != img.shape[:2]:
            raise ConfigError(f'test_pipeline transform changed the tile size {img.shape[:2]} '
                              f'-> {out.shape[:2]}; scene inference needs size-preserving steps')
        return out

    normalize.steps = [n for n, _ in steps]
    return normalize


def _threshold_of(model, override: Optional[float]) -> Optional[float]:
    if override is not None:
        return float(override)
    head = getattr(model, 'decode_head', None)
    if head is not None and getattr(head, 'out_channels', 2) == 1:
        return float(getattr(head, 'threshold', None) or 0.5)
    return None  # decided from the logits: 0.5 on the softmax landslide probability


@torch.no_grad()
def predict_tiles(model, batch: torch.Tensor) -> torch.Tensor:
    """Landslide probability ``N x H x W`` of a normalised batch ``N x C x H x W``."""
    n, _, h, w = batch.shape
    dp = getattr(model, 'data_preprocessor', None)
    if dp is not None and getattr(dp, '_enable_normalize', False):
        batch = (batch - dp.mean) / dp.std
    metas = [dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w),
                  padding_size=[0, 0, 0, 0])] * n
    if hasattr(model, 'inference'):
        logits = model.inference(batch, metas)
    else:
        logits = model(batch, mode='tensor')
    if logits.shape[-2:] != (h, w):
        logits = torch.nn.functional.interpolate(logits, (h, w), mode='bilinear',
                                                 align_corners=False)
    if logits.shape[1] == 1:
        return logits[:, 0].sigmoid()
    if logits.shape[1] == 2:
        return logits.softmax(1)[:, 1]
    raise ConfigError(f'the model outputs {logits.shape[1]} channels; scene inference needs a '
                      'binary model (1 sigmoid channel or 2 softmax channels)')


# --------------------------------------------------------------------------------------------
# tiling
# --------------------------------------------------------------------------------------------
def tile_origins(size: int, tile: int, stride: int) -> List[int]:
    """Tile start offsets covering ``[0, size)``; the last tile ends on the edge."""
    if size <= tile:
        return [0]
    return list(range(0, size - tile, stride)) + [size - tile]


WEIGHT_MAX = 32  # per axis; 2-D weights are products, at most 1024 = 2**10


def blend_weights(tile: int, overlap: int) -> np.ndarray:
    """Integer ``tile x tile`` weights: the product of two 1-D ramps, each 1 at the tile edge
    rising linearly to ``WEIGHT_MAX`` over ``overlap`` pixels (a pyramid window)."""
    d = np.minimum(np.arange(tile), np.arange(tile)[::-1]).astype(np.float64)
    ramp = np.clip((d + 0.5) / max(overlap, 1), 0.0, 1.0)
    w1 = 1 + np.round((WEIGHT_MAX - 1) * ramp).astype(np.int64)
    return w1[:, None] * w1[None, :]


def _acc_dtype(tile: int, overlap: int):
    """``int32`` when the weighted sum of all tiles covering a pixel cannot overflow it."""
    per_axis = -(-tile // (tile - overlap)) + 1  # clamped last tiles add one per axis
    return np.int32 if per_axis ** 2 * WEIGHT_MAX ** 2 * QUANT < 2 ** 31 else np.int64


@dataclass
class _Tile:
    y: int
    x: int
    h: int  # extent inside the scene
    w: int
    last_block: Tuple[int, int]


class _Grid:
    """The fixed tile grid and its grouping into ``window`` x ``window`` blocks."""

    def __init__(self, height, width, tile, overlap, window):
        self.height, self.width = height, width
        self.tile, self.window = tile, window
        stride = tile - overlap
        ys, xs = tile_origins(height, tile, stride), tile_origins(width, tile, stride)
        self.nby = -(-height // window)
        self.nbx = -(-width // window)
        self.blocks: Dict[Tuple[int, int], List[_Tile]] = {}
        for y in ys:
            for x in xs:
                h, w = min(tile, height - y), min(tile, width - x)
                last = ((y + h - 1) // window, (x + w - 1) // window)
                self.blocks.setdefault((y // window, x // window), []).append(
                    _Tile(y, x, h, w, last))
        self.n_tiles = len(ys) * len(xs)

    def core(self, bi, bj) -> Tuple[int, int, int, int]:
        w = self.window
        return bi * w, min((bi + 1) * w, self.height), bj * w, min((bj + 1) * w, self.width)


# --------------------------------------------------------------------------------------------
# input
# --------------------------------------------------------------------------------------------
def _has_georef(src) -> bool:
    return src.crs is not None or not src.transform.almost_equals(rasterio.Affine.identity())


def _needs_mask(src) -> bool:
    return src.nodata is not None or any(MaskFlags.all_valid not in flags
                                         for flags in src.mask_flag_enums)


class _SceneReader:
    """Reads windows of the model input, bands assembled in the config's order."""

    def __init__(self, stack: ExitStack, input_path: str, dem_path: Optional[str],
                 cfg_bands: Optional[Sequence[str]], in_channels: Optional[int],
                 input_bands: Optional[Sequence[str]]):
        try:
            self.src = stack.enter_context(rasterio.open(input_path))
        except rasterio.errors.RasterioIOError as err:
            raise DataError(f'cannot open input scene {input_path}: {err}') from None
        src = self.src
        self.path = input_path
        self.georef = _has_georef(src)
        if not self.georef:
            warnings.warn(f'{input_path} has no georeferencing (no CRS, identity transform): '
                          'outputs are in pixel coordinates', UserWarning, stacklevel=3)
        self.dem = None
        if dem_path is not None:
            try:
                dem = stack.enter_context(rasterio.open(dem_path))
            except rasterio.errors.RasterioIOError as err:
                raise DataError(f'cannot open DEM {dem_path}: {err}') from None
            same_grid = (dem.width, dem.height) == (src.width, src.height) and (
                dem.transform.almost_equals(src.transform)) and dem.crs == src.crs
            if not same_grid:
                if not (self.georef and _has_georef(dem)):
                    raise DataError(
                        f'DEM {dem_path} ({dem.width}x{dem.height}) is not on the grid of '
                        f'{input_path} ({src.width}x{src.height}) and one of them has no '
                        'georeferencing, so it cannot be resampled onto the image grid')
                # warped as float32; outside the DEM's extent: its nodata, NaN if it has none
                dem = stack.enter_context(WarpedVRT(
                    dem, crs=src.crs or dem.crs, transform=src.transform, width=src.width,
                    height=src.height, resampling=Resampling.bilinear, dtype='float32',
                    nodata=dem.nodata if dem.nodata is not None else float('nan')))
            self.dem = dem
        # which source band feeds each model channel
        names = list(cfg_bands) if cfg_bands else None
        n_img = src.count
        if names is None:
            n_dem = 1 if self.dem is not None else 0
            if in_channels is not None and n_img + n_dem != in_channels:
                raise DataError(f'{input_path} has {n_img} band(s)'
                                f'{" + 1 DEM band" if n_dem else ""}, the model expects '
                                f'{in_channels} channels')
            self.plan = [('img', i + 1) for i in range(n_img)] + [('dem', 1)] * n_dem
            self.band_names = [f'band{i + 1}' for i in range(n_img)] + ['DEM'] * n_dem
        else:
            dem_names = [b for b in names if b.lower() in DEM_BAND_NAMES]
            if self.dem is not None and not dem_names:
                raise DataError(f'--dem {dem_path} given, but the config bands {names} hold no '
                                f'elevation band (one of {DEM_BAND_NAMES})')
            img_names = [b for b in names if not (self.dem is not None and b in dem_names)]
            if input_bands is None:
                desc = [d for d in src.descriptions if d]
                if len(desc) == n_img and set(img_names) <= set(desc):
                    input_bands = list(src.descriptions)
            if input_bands is not None:
                input_bands = list(input_bands)
                if len(input_bands) != n_img:
                    raise DataError(f'{input_path} has {n_img} bands but {len(input_bands)} '
                                    f'band names were given: {input_bands}')
                missing = [b for b in img_names if b not in input_bands]
                if missing:
                    raise DataError(f'{input_path} lacks band(s) {missing} that the config '
                                    f'needs (its bands: {input_bands})')
                where = {b: input_bands.index(b) + 1 for b in img_names}
            else:
                unique = list(dict.fromkeys(img_names))
                if len(unique) != n_img:
                    raise DataError(
                        f'{input_path} has {n_img} band(s) but the config needs {len(unique)} '
                        f'image band(s) {unique}'
                        + (' (the DEM comes from --dem)' if self.dem is not None else
                           (' (pass the DEM with --dem?)' if dem_names else '')))
                where = {b: i + 1 for i, b in enumerate(unique)}
            self.plan = [('dem', 1) if (self.dem is not None and b in dem_names)
                         else ('img', where[b]) for b in names]
            self.band_names = names
        if in_channels is not None and len(self.plan) != in_channels:
            raise ConfigError(f'config bands {self.band_names} give {len(self.plan)} channels '
                              f'but the model expects in_channels={in_channels}')
        self.img_indexes = sorted({i for s, i in self.plan if s == 'img'})
        self.mask_sources = [s for s in (src, self.dem) if s is not None and _needs_mask(s)]
        self.has_nodata = bool(self.mask_sources)

    def read(self, y0, y1, x0, x1) -> np.ndarray:
        """Model input ``C x h x w`` of rows ``y0:y1``, cols ``x0:x1``, in the sources' common
        dtype (converted to float32 tile by tile); non-finite values become 0."""
        win = Window(x0, y0, x1 - x0, y1 - y0)
        img = self.src.read(self.img_indexes, window=win)
        if self.plan == [('img', i) for i in self.img_indexes]:
            out = img  # the input's bands, in order: no copy
        else:
            pos = {b: k for k, b in enumerate(self.img_indexes)}
            dem = self.dem.read(1, window=win) if self.dem is not None else None
            dtype = np.result_type(img.dtype, *([dem.dtype] if dem is not None else []))
            out = np.empty((len(self.plan), y1 - y0, x1 - x0), dtype)
            for c, (s, i) in enumerate(self.plan):
                out[c] = img[pos[i]] if s == 'img' else dem
        if out.dtype.kind == 'f':
            bad = ~np.isfinite(out)
            if bad.any():
                out[bad] = 0
        return out

    def valid(self, y0, y1, x0, x1) -> Optional[np.ndarray]:
        """Boolean valid-data mask of the window (GDAL mask semantics), ``None`` if all valid."""
        if not self.has_nodata:
            return None
        win = Window(x0, y0, x1 - x0, y1 - y0)
        ok = np.ones((y1 - y0, x1 - x0), bool)
        for s in self.mask_sources:
            ok &= s.dataset_mask(window=win) > 0
        return ok


# --------------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------------
@contextmanager
def atomic_outputs(paths: Sequence[Optional[str]]) -> Iterator[List[Optional[str]]]:
    """Temporary paths beside each final path, renamed over them only if the block succeeds.

    The temporaries are hidden ``.NAME.<random>.part`` files, removed on any error or interrupt,
    so an interrupted run never leaves a file under the final name.
    """
    temps = []
    for p in paths:
        if p is None:
            temps.append(None)
            continue
        d, name = osp.split(osp.abspath(p))
        if not osp.isdir(d):
            raise DataError(f'output folder {d} (for {p}) does not exist')
        temps.append(osp.join(d, f'.{name}.{uuid.uuid4().hex[:8]}.part'))
    try:
        yield temps
    except BaseException:
        for t in temps:
            if t is not None and osp.exists(t):
                os.remove(t)
        raise
    for t, p in zip(temps, paths):
        if t is not None:
            os.replace(t, p)


_ZSTD = None


def _has_zstd() -> bool:
    """Whether this GDAL writes ZSTD-compressed GeoTIFFs (4x faster than deflate on floats)."""
    global _ZSTD
    if _ZSTD is None:
        try:
            with rasterio.open('/vsimem/lszoo_zstd_probe.tif', 'w', driver='GTiff', width=1,
                               height=1, count=1, dtype='float32', compress='zstd') as ds:
                ds.write(np.zeros((1, 1, 1), np.float32))
            _ZSTD = True
        except Exception:
            _ZSTD = False
    return _ZSTD


def _raster_profile(src, dtype, nodata):
    """Tiled, compressed single-band GeoTIFF on the input's grid: deflate for the uint8 mask
    (readable everywhere), ZSTD (when available) for the float probabilities."""
    comp = dict(compress='deflate', zlevel=1)
    if dtype != 'uint8' and _has_zstd():
        comp = dict(compress='zstd', zstd_level=1)
    return dict(driver='GTiff', width=src.width, height=src.height, count=1, dtype=dtype,
                crs=src.crs, transform=src.transform, nodata=nodata, tiled=True,
                blockxsize=OUT_BLOCK, blockysize=OUT_BLOCK, BIGTIFF='IF_SAFER', **comp)


# --------------------------------------------------------------------------------------------
# the scene loop
# --------------------------------------------------------------------------------------------
@dataclass
class SceneResult:
    """What :func:`map_scene` produced and how long its parts took (seconds, rank 0)."""

    output: str
    prob: Optional[str] = None
    polygons: Optional[str] = None
    n_polygons: int = 0
    height: int = 0
    width: int = 0
    n_tiles: int = 0
    landslide_pixels: int = 0
    world_size: int = 1
    times: Dict[str, float] = field(default_factory=dict)


def _dist_info():
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def map_scene(model, input: str, output: str, checkpoint: Optional[str] = None, *,
              cfg=None, dem: Optional[str] = None, prob: Optional[str] = None,
              polygons: Optional[str] = None, tile: int = 512, overlap: int = 64,
              batch: int = 4, window: int = 2048, device: str = 'cpu',
              threshold: Optional[float] = None, input_bands: Optional[Sequence[str]] = None,
              normalize: Union[str, Callable] = 'config', progress: bool = True) -> SceneResult:
    """Map landslides over a whole GeoTIFF scene in bounded memory.

    Args:
        model: a config (path, dict or :class:`~mmengine.config.Config`) or a built segmentor
            (then pass its ``cfg`` for the bands and normalisation).
        input: input GeoTIFF (image bands; with the DEM too unless ``dem`` is given).
        output: output mask GeoTIFF: uint8, 1 landslide, 0 background, 255 nodata.
        checkpoint: local checkpoint file loaded into a model built from a config.
        dem: a separate elevation raster, resampled to the image grid on the fly.
        prob: optional float32 landslide-probability GeoTIFF.
        polygons: optional inventory (``.gpkg`` or ``.geojson``).
        tile, overlap, batch: tile size, overlap between tiles and tiles per forward pass.
        window: block (read and write window) size in pixels, a multiple of 256 and >= ``tile``.
        threshold: landslide probability threshold (default: the decode head's threshold for
            one sigmoid channel, 0.5 for two softmax channels).
        input_bands: names of the input's bands, to pick the config's bands by name.
        normalize: ``'config'`` (the test pipeline's normalisation), ``'none'``, or a callable
            ``f(HxWxC float32) -> HxWxC float32``.
        progress: show a progress bar (rank 0).

    Returns:
        A :class:`SceneResult`.
    """
    t_start = time.perf_counter()
    rank, world = _dist_info()
    if tile % 32 or tile <= 0:
        raise ConfigError(f'tile must be a positive multiple of 32, got {tile}')
    if not 0 <= overlap < tile:
        raise ConfigError(f'overlap must be in [0, tile), got {overlap} (tile {tile})')
    if window % OUT_BLOCK or window < tile:
        raise ConfigError(f'window must be a multiple of {OUT_BLOCK} and >= tile ({tile}), '
                          f'got {window}')
    if batch < 1:
        raise ConfigError(f'batch must be >= 1, got {batch}')
    if threshold is not None and not 0 <= threshold < 1:
        raise ConfigError(f'threshold must be in [0, 1), got {threshold}')
    if polygons is not None:
        vector_driver(polygons)
    for p in (output, prob, polygons):
        if p is not None and osp.abspath(p) == osp.abspath(input):
            raise DataError(f'output {p} would overwrite the input scene')

    if isinstance(model, torch.nn.Module):
        if cfg is not None:
            cfg = _load_config(cfg)
        model = model.to(device).eval()
    else:
        model, cfg = init_scene_model(model, checkpoint, device)
    cfg_bands = cfg.get('bands') if cfg is not None else None
    in_channels = cfg.get('in_channels') if cfg is not None else None
    stream_layout = cfg.get('stream_layout') if cfg is not None else None
    times = dict(model=0.0, read=0.0, normalize=0.0, blend=0.0, write=0.0, polygons=0.0)

    with ExitStack() as stack:
        stack.enter_context(rasterio.Env(GDAL_CACHEMAX=64))
        reader = _SceneReader(stack, input, dem, cfg_bands, in_channels, input_bands)
        src = reader.src
        if normalize == 'config' and cfg is not None:
            norm = build_normalizer(cfg, reader.band_names, stream_layout)
        elif normalize in ('none', None, 'config'):
            norm = None
        elif callable(normalize):
            norm = normalize
        else:
            raise ConfigError(f"normalize must be 'config', 'none' or a callable, got "
                              f'{normalize!r}')
        thr = _threshold_of(model, threshold)
        H, W = src.height, src.width
        grid = _Grid(H, W, tile, overlap, window)
        acc_dtype = _acc_dtype(tile, overlap)
        weights = blend_weights(tile, overlap).astype(acc_dtype)
        # threshold in quantised units: landslide where sum(w p_q) > thr_q sum(w), exact integers
        thr_q = int(round((0.5 if thr is None else thr) * QUANT))
        prob_nodata = None
        if reader.has_nodata:
            nd = src.nodata
            prob_nodata = float(nd) if nd is not None and np.isfinite(nd) and not (
                0 <= nd <= 1) else -1.0
        writing = rank == 0
        outputs = stack.enter_context(atomic_outputs([output, prob, polygons] if writing
                                                     else [None, None, None]))
        mask_ds = prob_ds = None
        if writing:
            mask_ds = stack.enter_context(rasterio.open(
                outputs[0], 'w', **_raster_profile(src, 'uint8',
                                                   MASK_NODATA if reader.has_nodata else None)))
            if prob is not None:
                prob_ds = stack.enter_context(rasterio.open(
                    outputs[1], 'w', **_raster_profile(src, 'float32', prob_nodata)))
        collector = None
        if polygons is not None and writing:
            collector = PolygonCollector(outputs[2], H, W, src.transform,
                                         src.crs.to_wkt() if src.crs else None,
                                         vector_driver(polygons))
            stack.callback(collector.abort)
        bar = None
        if progress and writing:
            from mmengine.utils import ProgressBar
            bar = ProgressBar(grid.n_tiles)

        cache: Dict[Tuple[int, int], Tuple[_Tile, np.ndarray]] = {}
        n_fg = 0
        for bi in range(grid.nby):
            for bj in range(grid.nbx):
                tiles = grid.blocks.get((bi, bj), [])
                batches = [tiles[i:i + batch] for i in range(0, len(tiles), batch)]
                share = np.array_split(np.arange(len(batches)), world)[rank]
                mine = [t for k in share for t in batches[k]]
                preds = _predict_share(model, reader, mine, [batches[k] for k in share], tile,
                                       norm, device, times)
                if world > 1:
                    import torch.distributed as dist
                    gathered = [None] * world if writing else None
                    dist.gather_object(preds, gathered, dst=0)
                    if writing:
                        preds = [p for part in gathered for p in part]
                if not writing:
                    continue
                for t, p in preds:
                    cache[(t.y, t.x)] = (t, p)
                if bar is not None:
                    for _ in range(len(tiles)):
                        bar.update()
                # blend the finished block
                t0 = time.perf_counter()
                y0, y1, x0, x1 = grid.core(bi, bj)
                acc = np.zeros((y1 - y0, x1 - x0), acc_dtype)
                wsum = np.zeros((y1 - y0, x1 - x0), acc_dtype)
                for t, p in cache.values():
                    ty0, ty1 = max(t.y, y0), min(t.y + t.h, y1)
                    tx0, tx1 = max(t.x, x0), min(t.x + t.w, x1)
                    if ty0 >= ty1 or tx0 >= tx1:
                        continue
                    ws = weights[ty0 - t.y:ty1 - t.y, tx0 - t.x:tx1 - t.x]
                    acc[ty0 - y0:ty1 - y0, tx0 - x0:tx1 - x0] += ws * p[
                        ty0 - t.y:ty1 - t.y, tx0 - t.x:tx1 - t.x]
                    wsum[ty0 - y0:ty1 - y0, tx0 - x0:tx1 - x0] += ws
                for key in [k for k, (t, _) in cache.items() if t.last_block == (bi, bj)]:
                    del cache[key]
                mask = (acc > wsum * thr_q).view(np.uint8)  # wsum * QUANT fits, see _acc_dtype
                need_prob = prob_ds is not None or collector is not None
                pr = None
                if need_prob:
                    pr = acc.astype(np.float32)
                    pr /= wsum.astype(np.float32) * np.float32(QUANT)
                del acc, wsum
                times['blend'] += time.perf_counter() - t0
                t0 = time.perf_counter()
                valid = reader.valid(y0, y1, x0, x1)
                if valid is not None:
                    mask[~valid] = MASK_NODATA
                    if pr is not None:
                        pr[~valid] = prob_nodata
                n_fg += int((mask == 1).sum())
                win = Window(x0, y0, x1 - x0, y1 - y0)
                mask_ds.write(mask, 1, window=win)
                if prob_ds is not None:
                    prob_ds.write(pr, 1, window=win)
                times['write'] += time.perf_counter() - t0
                if collector is not None:
                    t0 = time.perf_counter()
                    collector.add_block(mask, pr, y0, x0)
                    times['polygons'] += time.perf_counter() - t0
        n_polygons = 0
        if writing:
            t0 = time.perf_counter()
            if bar is not None:
                print(flush=True)
            mask_ds.close()
            if prob_ds is not None:
                prob_ds.close()
            times['write'] += time.perf_counter() - t0
            if collector is not None:
                t0 = time.perf_counter()
                n_polygons = collector.close()
                times['polygons'] += time.perf_counter() - t0
    if world > 1:
        import torch.distributed as dist
        dist.barrier()
    times['total'] = time.perf_counter() - t_start
    return SceneResult(output=output, prob=prob, polygons=polygons, n_polygons=n_polygons,
                       height=H, width=W, n_tiles=grid.n_tiles, landslide_pixels=n_fg,
                       world_size=world, times=times)


def _predict_share(model, reader: _SceneReader, mine: List[_Tile], batches: List[List[_Tile]],
                   tile: int, norm, device, times) -> List[Tuple[_Tile, np.ndarray]]:
    """Read and predict this rank's tiles of a block; returns ``(tile, uint16 prob)`` pairs."""
    if not mine:
        return []
    t0 = time.perf_counter()
    y0 = min(t.y for t in mine)
    y1 = max(t.y + t.h for t in mine)
    x0 = min(t.x for t in mine)
    x1 = max(t.x + t.w for t in mine)
    data = reader.read(y0, y1, x0, x1)
    valid = reader.valid(y0, y1, x0, x1)
    times['read'] += time.perf_counter() - t0
    out = []
    for group in batches:
        t0 = time.perf_counter()
        arrays = []
        for t in group:
            a = data[:, t.y - y0:t.y - y0 + t.h, t.x - x0:t.x - x0 + t.w].transpose(1, 2, 0)
            if valid is not None:
                bad = ~valid[t.y - y0:t.y - y0 + t.h, t.x - x0:t.x - x0 + t.w]
                if bad.any():  # as the dataset loader does: fill holes with the band median
                    a = a.astype(np.float32)
                    good = a[~bad]
                    a[bad] = np.median(good, axis=0) if good.size else 0.0
            if (t.h, t.w) != (tile, tile):
                a = np.pad(a, ((0, tile - t.h), (0, tile - t.w), (0, 0)), mode='symmetric')
            a = np.ascontiguousarray(a, dtype=np.float32)
            if norm is not None:
                a = norm(a)
            arrays.append(a.transpose(2, 0, 1))
        x = torch.from_numpy(np.stack(arrays)).to(device)
        times['normalize'] += time.perf_counter() - t0
        t0 = time.perf_counter()
        p = predict_tiles(model, x)
        times['model'] += time.perf_counter() - t0
        p = p.cpu().numpy()
        p *= QUANT
        p += 0.5
        p = p.astype(np.uint16)  # round(p * QUANT)
        for t, pt in zip(group, p):
            out.append((t, np.ascontiguousarray(pt[:t.h, :t.w])))
    return out
