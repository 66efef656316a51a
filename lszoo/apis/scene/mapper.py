"""Whole-scene landslide mapping: GeoTIFF in, georeferenced mask, probabilities and polygons out.

The scene is never read whole: a fixed grid of overlapping tiles (:mod:`.grid`) is processed in
square blocks of ``window`` pixels in raster order. The tiles of a block are read with one window
read (:mod:`.reader`), predicted in batches (:mod:`.predictor`) and cached until every block they
cover is finished; a finished block is blended and thresholded (:mod:`.blend`) and written as one
window of the outputs (:mod:`.writer`). Memory is bounded by the block size plus the cached tiles
that hang over into the next block row, not by the scene size. Under ``torch.distributed``
(``torchrun``, gloo on CPU) each rank predicts a contiguous share of every block's batches and
rank 0 gathers, blends and writes; integer blending keeps the result bit-identical whatever the
block size and the number of processes. With ``prefetch`` (default on CUDA, :mod:`.prefetch`)
reading and normalising run ahead of the model in a background thread that does all reads of
the input; the outputs do not change. See ``docs/scene_inference.md``.
"""
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Dict, Iterator, Optional, Tuple, Union

import numpy as np
import rasterio
import torch

from lszoo.evaluation.threshold import resolve_temperature, resolve_threshold, temperature_message
from lszoo.models.decode_heads.temperature import temperature_scaled
from lszoo.config import load_config
from lszoo.geo.grid import Grid
from lszoo.geo.reader import SceneReader
from lszoo.utils.output_lock import output_locks

from .backend import choose_backend
from .blend import BlockBlender
from .options import SceneOptions, check_output_paths
from .pair import check_pair_inputs
from .predictor import TileBatch, TilePredictor, build_normalizer, init_scene_model
from .prefetch import Prefetcher, default_prefetch
from .writer import SceneWriter, atomic_outputs


@dataclass
class SceneResult:
    """What :func:`map_scene` produced and how long its parts took (seconds, rank 0)."""

    output: str
    prob: Optional[str] = None
    uncertainty: Optional[str] = None
    polygons: Optional[str] = None
    n_polygons: int = 0
    height: int = 0
    width: int = 0
    n_tiles: int = 0
    landslide_pixels: int = 0
    world_size: int = 1
    threshold: float = 0.5
    threshold_source: str = ''
    temperature: Optional[float] = None
    backend: str = ''
    times: Dict[str, float] = field(default_factory=dict)

    def outside_model_share(self) -> float:
        """Share of the mapping's time spent outside the forward passes (reading, normalising,
        blending, writing, waiting); model setup, polygons and extras are left out."""
        t = self.times
        run = t['total'] - sum(t.get(k, 0.0) for k in ('setup', 'polygons', 'extras'))
        return max(0.0, run - t['model']) / run if run > 0 else 0.0


def _dist_info():
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _gather(preds, rank: int, world: int):
    """Every rank's predictions on rank 0 (``None`` elsewhere)."""
    if world == 1:
        return preds
    import torch.distributed as dist
    gathered = [None] * world if rank == 0 else None
    dist.gather_object(preds, gathered, dst=0)
    return [p for part in gathered for p in part] if rank == 0 else None


def _prepare(model, checkpoint, cfg, opts: SceneOptions):
    """The model in eval mode on the device and its config (``None`` for a bare model). An
    :class:`~lszoo.deploy.onnx_predictor.OnnxTileModel` comes with ``cfg`` for the bands."""
    if callable(model) and not isinstance(model, torch.nn.Module):  # ONNX tile model
        cfg = load_config(cfg) if cfg is not None else None
        if getattr(model, 'fixed_size', None) not in (None, opts.tile):
            from lszoo.errors import ConfigError
            raise ConfigError(f'{model.path} takes {model.fixed_size}x{model.fixed_size} tiles, '
                              f'--tile is {opts.tile} (use --tile {model.fixed_size} or export '
                              'with --dynamic-size)')
        model.check_bands(_cfg_get(cfg, 'bands'))
        return model, cfg
    if not isinstance(model, torch.nn.Module):
        return init_scene_model(model, checkpoint, opts.device)
    return model.to(opts.device).eval(), load_config(cfg) if cfg is not None else None


def _gdal_env():
    return rasterio.Env(GDAL_CACHEMAX=64)


@dataclass
class BlockDone:
    """Every batch of ``block`` (of this rank) was read; ``valid`` is the block's valid-data mask
    (``None``: all valid, or not needed on this rank)."""

    block: Tuple[int, int]
    valid: Optional[np.ndarray]


def read_blocks(grid: Grid, predict: TilePredictor, reader: SceneReader, batch: int, rank: int,
                world: int, with_valid: bool) -> Iterator[Union[TileBatch, BlockDone]]:
    """The reader side of :func:`map_scene`, in block order: this rank's batches of each block,
    then its :class:`BlockDone`. Every read of the input happens here, so in one thread."""
    for block in grid.block_ids():
        yield from predict.read_batches(grid.batches(block, batch, rank, world))
        t0 = time.perf_counter()
        valid = reader.valid(*grid.core(*block)) if with_valid else None
        predict.times['read'] += time.perf_counter() - t0
        yield BlockDone(block, valid)


def _timed(items, times: dict):
    """``items``, adding the time spent waiting for each to ``times['wait']``."""
    it = iter(items)
    while True:
        t0 = time.perf_counter()
        item = next(it, None)
        times['wait'] += time.perf_counter() - t0
        if item is None:
            return
        yield item


def _cfg_get(cfg, key):
    return cfg.get(key) if cfg is not None else None


def _normalizer(cfg, reader: SceneReader, normalize, model=None):
    if model is not None and not isinstance(model, torch.nn.Module):
        return None  # an exported graph normalises itself
    if normalize == 'config' and cfg is not None:
        return build_normalizer(cfg, reader.band_names, cfg.get('stream_layout'))
    return normalize if callable(normalize) else None


def _run_blocks(items, predict: TilePredictor, blender: BlockBlender,
                writer: Optional[SceneWriter], bar, rank: int, world: int) -> int:
    """Predict every batch of ``items``; at each finished block gather the predictions on rank
    0, blend and write them. Returns the landslide pixel count written."""
    n_fg, preds, times, grid = 0, [], predict.times, blender.grid
    for item in items:
        if isinstance(item, TileBatch):
            preds += predict.predict_batch(item)
            continue
        block_preds, preds = _gather(preds, rank, world), []
        if writer is None:
            continue
        blender.add(block_preds)
        if bar is not None:
            bar.update(len(grid.blocks.get(item.block, [])))
        t0 = time.perf_counter()
        mask, pr = blender.blend(item.block, writer.needs_prob)
        times['blend'] += time.perf_counter() - t0
        y0, _, x0, _ = grid.core(*item.block)
        n_fg += writer.write(mask, pr, item.valid, y0, x0, times)
    if bar is not None:
        print(flush=True)
    return n_fg


def map_scene(model, input: str, output: str, checkpoint: Optional[str] = None, *, cfg=None,
              dem: Optional[str] = None, prob: Optional[str] = None,
              polygons: Optional[str] = None, quicklook: Optional[str] = None,
              pre: Optional[str] = None, uncertainty: Optional[str] = None,
              **options) -> SceneResult:
    """Map landslides over the GeoTIFF ``input`` in bounded memory.

    ``model`` is a config (path, dict or Config; ``checkpoint`` is loaded into it) or a built
    segmentor (pass its ``cfg`` for the bands and normalisation). Writes ``output`` (uint8 mask:
    1 landslide, 0 background, 255 nodata) and optionally ``prob`` (float32 probabilities) and
    ``polygons`` (``.gpkg``/``.geojson`` inventory); ``dem`` is a separate elevation raster
    resampled to the image grid; ``pre`` the pre-event image of a change (bi-temporal) config, on
    any grid, warped to the image grid per window (:mod:`lszoo.geo.pre_event`; pre and post are
    checked to overlap and to have the same bands before any work); ``quicklook`` a PNG (map
    figure); ``uncertainty`` a float32 per-pixel uncertainty GeoTIFF (:mod:`.uncertainty`: TTA
    spread with ``tta``, else the entropy of the probability). ``options`` are
    :class:`SceneOptions` (tile, overlap, batch, window, device, threshold, input_bands,
    normalize, progress, tta, cog, stac, split_tiles, prefetch, backend: :mod:`.backend`).
    ``model`` may also be an :class:`~lszoo.deploy.onnx_predictor.OnnxTileModel`
    (with ``cfg`` for the bands). With ``stac`` (default) a STAC Item ``<mask stem>.stac.json``
    describes the outputs. The threshold is
    :func:`lszoo.evaluation.threshold.resolve_threshold`'s: ``threshold``, else an ONNX model's
    own, else the one calibrated beside ``checkpoint`` (``tools/test.py --calibrate``)
    unless the config sets ``use_calibrated_threshold = False``, else the decode head's; the
    temperature of the logits is :func:`~lszoo.evaluation.threshold.resolve_temperature`'s
    (fitted beside ``checkpoint``; folded into an ONNX graph, the cached one included), applied
    for the run.
    Two runs writing one output at once are refused: each output is locked for the run
    (:mod:`lszoo.utils.output_lock`), and the second stops with ``OUTPUT ... is being written by
    process N``.
    """
    opts = SceneOptions(**options)
    rank = _dist_info()[0] if opts.split_tiles else 0
    check_output_paths(input, output, prob, polygons, dem, quicklook, pre, uncertainty)
    check_pair_inputs(model, cfg, input, pre)
    outputs = {'OUTPUT': output, '--prob': prob, '--polygons': polygons,
               '--quicklook': quicklook, '--uncertainty': uncertainty} if rank == 0 else {}
    with output_locks(outputs):  # rank 0 writes every output
        return _map_scene(model, input, output, checkpoint, cfg, dem, prob, polygons,
                          quicklook, opts, pre, uncertainty)


def _map_scene(model, input: str, output: str, checkpoint, cfg, dem, prob, polygons,
               quicklook, opts: SceneOptions, pre: Optional[str] = None,
               uncertainty: Optional[str] = None) -> SceneResult:
    """:func:`map_scene` once its outputs are checked and locked."""
    t_start = time.perf_counter()
    rank, world = _dist_info() if opts.split_tiles else (0, 1)
    model, cfg = _prepare(model, checkpoint, cfg, opts)
    temperature, t_source = resolve_temperature(model, cfg, checkpoint)  # once, for both backends
    backend = choose_backend(model, cfg, checkpoint, opts, temperature=temperature)
    if rank == 0 and opts.progress:
        print(backend.line, flush=True)
    if rank == 0:
        print(temperature_message(temperature, t_source), flush=True)
    times = dict(model=0.0, read=0.0, normalize=0.0, wait=0.0, blend=0.0, write=0.0,
                 polygons=0.0, setup=time.perf_counter() - t_start)
    with ExitStack() as stack:
        stack.enter_context(_gdal_env())
        stack.enter_context(temperature_scaled(model, temperature))
        reader = SceneReader(stack, input, dem, _cfg_get(cfg, 'bands'),
                             _cfg_get(cfg, 'in_channels'), opts.input_bands, pre_path=pre,
                             stream_layout=_cfg_get(cfg, 'stream_layout'))
        predict = TilePredictor(backend.forward, reader, opts.tile,
                                _normalizer(cfg, reader, opts.normalize, backend.forward),
                                opts.device, times, opts.tta, spread=uncertainty is not None)
        grid = Grid(reader.src.height, reader.src.width, opts.tile, opts.overlap, opts.window)
        thr, source = resolve_threshold(model, cfg, checkpoint, opts.threshold)
        blender = BlockBlender(grid, opts.tile, opts.overlap, thr)
        writer = bar = None
        if rank == 0:
            paths = stack.enter_context(atomic_outputs([output, prob, polygons, uncertainty]))
            writer = SceneWriter(stack, reader.src, paths, reader.has_nodata, polygons, opts)
            bar = _progress_bar(grid.n_tiles) if opts.progress else None
        depth = default_prefetch(opts.device) if opts.prefetch is None else opts.prefetch
        items = read_blocks(grid, predict, reader, opts.batch, rank, world, writer is not None)
        if depth:  # rasterio's GDAL settings are per thread: the reader gets its own
            items = stack.enter_context(Prefetcher(items, depth, _gdal_env))
        n_fg = _run_blocks(_timed(items, times), predict, blender, writer, bar, rank, world)
        n_polygons = writer.close(times) if writer is not None else 0
        input_bands = opts.input_bands or reader.band_names
    if rank == 0 and (quicklook is not None or opts.stac):
        from .extras import write_scene_extras
        t0 = time.perf_counter()
        write_scene_extras(input, output, prob=prob, polygons=polygons, quicklook=quicklook,
                           stac=opts.stac, cfg=cfg,
                           model_file=getattr(model, 'path', None) or checkpoint,
                           threshold=thr, band_names=input_bands,
                           extra={'lszoo:tta': opts.tta, 'lszoo:temperature': temperature},
                           pre=pre, uncertainty=uncertainty)
        times['extras'] = time.perf_counter() - t0
    if world > 1:
        torch.distributed.barrier()
    times['total'] = time.perf_counter() - t_start
    return SceneResult(output=output, prob=prob, uncertainty=uncertainty, polygons=polygons,
                       n_polygons=n_polygons, height=grid.height, width=grid.width,
                       n_tiles=grid.n_tiles,
                       landslide_pixels=n_fg, world_size=world, threshold=thr,
                       threshold_source=source, temperature=temperature,
                       backend=backend.line, times=times)


def _progress_bar(n: int):
    from mmengine.utils import ProgressBar
    return ProgressBar(n)
