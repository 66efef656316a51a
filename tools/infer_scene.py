"""Map landslides over a whole GeoTIFF scene: mask (+ probabilities, + polygon inventory).

    python tools/infer_scene.py CONFIG CHECKPOINT INPUT.tif OUTPUT.tif \
        [--dem DEM.tif] [--pre PRE.tif] [--prob PROB.tif] [--polygons OUT.gpkg|OUT.geojson] \
        [--tile 512 --overlap 64 --batch 4 --window 2048 --device cpu]
        [--quicklook [PNG]] [--tta flip|d4] [--no-cog] [--no-stac] [--prefetch N]
        [--min-area 5px|M2] [--fill-holes 5px|M2] [--uncertainty OUT.tif]

    python tools/infer_scene.py CONFIG MODEL.onnx INPUT.tif OUTPUT.tif --onnx ...

The mask and probabilities are Cloud-Optimized GeoTIFFs and a STAC Item ``OUTPUT.stac.json``
describes the outputs (docs/deployment.md). ``--onnx``: CHECKPOINT is a model exported by
tools/export_onnx.py, run with onnxruntime (the config gives the bands).

Several processes (CPU, gloo) or GPUs split the tiles, through the training launcher:

    torchrun --nproc_per_node=2 tools/infer_scene.py CONFIG CKPT IN.tif OUT.tif --launcher pytorch

Many scenes (several files, a folder or a glob; OUTPUT a folder or a template with ``{name}``,
the input's file name without extension; ``--prob``/``--polygons``/``--dem`` as templates):
whole scenes are spread over the processes, scenes whose outputs are complete are skipped
(``--overwrite`` redoes them), and rank 0 prints one summary (done, skipped, failed with reason;
exit status 1 when a scene failed)::

    torchrun --nproc_per_node=4 tools/infer_scene.py CONFIG CKPT 'scenes/*.tif' out/ \
        --polygons 'out/{name}.gpkg' --launcher pytorch

See docs/scene_inference.md.
"""
import argparse
import os
import signal
import sys
import warnings


EXAMPLES = """examples:
  one scene, mask + probabilities + polygons, with a separate DEM:
    python tools/infer_scene.py configs/demo/inventory_synthetic.py iter_400.pth \\
        scene_b.tif out/scene_b_mask.tif --dem dem.tif --prob out/scene_b_prob.tif \\
        --polygons out/scene_b.gpkg
  a change (pre/post) model: the post-event image, its pre-event image on any grid:
    python tools/infer_scene.py configs/demo/fc_siam_diff_synthetic.py iter_400.pth \\
        post.tif out/change_mask.tif --pre pre.tif --polygons out/new_landslides.gpkg
  an exported ONNX model (tools/export_onnx.py), test-time augmentation:
    python tools/infer_scene.py CONFIG model.onnx scene.tif out.tif --onnx --tta flip
  many scenes, two processes:
    torchrun --nproc_per_node=2 tools/infer_scene.py CONFIG CKPT 'scenes/*.tif' out/ \\
        --polygons 'out/{name}.gpkg' --launcher pytorch
docs/scene_inference.md has the details."""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Each option's default after its help (unless it has none or the help names it); the
    examples kept as written."""

    def _get_help_string(self, action):
        text = action.help or ''
        if action.default in (None, False, argparse.SUPPRESS) or 'default' in text \
                or not action.option_strings:
            return text
        return f'{text} (default: %(default)s)'


def parse_args(argv=None):
    from lszoo.cli.tool import add_trust_arg

    p = argparse.ArgumentParser(
        description='Whole-scene landslide mapping (GeoTIFF in, georeferenced mask / '
        'probabilities / polygons out).', epilog=EXAMPLES, formatter_class=HelpFormatter)
    p.add_argument('config', help='model config file')
    p.add_argument('checkpoint', help='local checkpoint file (.pth)')
    p.add_argument('inputs', nargs='+', metavar='INPUT',
                   help='input GeoTIFF (image bands in the config band order); several files, '
                   'a folder or a glob pattern map many scenes')
    p.add_argument('output', help='output mask GeoTIFF (uint8: 1 landslide, 0 background, '
                   '255 nodata); with many scenes a folder or a template with {name}')
    p.add_argument('--dem', help='separate DEM raster, resampled to the image grid on the fly')
    p.add_argument('--pre', metavar='PRE.tif',
                   help='pre-event image of a change (bi-temporal) config, same bands as INPUT '
                   '(the post-event image), any grid/CRS: warped to the image grid on the fly '
                   '(docs/change_detection.md)')
    p.add_argument('--prob', help='also write a float32 probability GeoTIFF here')
    p.add_argument('--uncertainty', metavar='OUT.tif',
                   help='also write a float32 per-pixel uncertainty GeoTIFF here: with --tta '
                   'the standard deviation of the probability over the views, else the binary '
                   'entropy (bits) of the probability (docs/scene_inference.md); one scene only'),
    p.add_argument('--polygons', help='also write a polygon inventory (.gpkg or .geojson)')
    p.add_argument('--min-area', default='5px', metavar='AREA',
                   help='polygon inventory: leave out landslides smaller than AREA, in map '
                   "units² (m² in a projected CRS) or pixels ('5px'); 0 keeps all")
    p.add_argument('--fill-holes', default='5px', metavar='AREA',
                   help='polygon inventory: fill holes smaller than AREA (map units² or '
                   "'<n>px'); 0 keeps all holes")
    p.add_argument('--bands', nargs='+', help="names of the input's bands, to select the "
                   "config's bands by name (default: band descriptions, else in order)")
    p.add_argument('--tile', type=int, help='tile size (multiple of 32; default 512, or the '
                   "fixed tile size of an --onnx model)")
    p.add_argument('--overlap', type=int, default=64, help='overlap between tiles in pixels')
    p.add_argument('--batch', type=int, default=4, help='tiles per forward pass')
    p.add_argument('--window', type=int, default=2048,
                   help='read/write block size in pixels (multiple of 256, >= tile)')
    p.add_argument('--threshold', type=float, help='landslide probability threshold '
                   '(default: one calibrated into the checkpoint by tools/test.py --calibrate, '
                   'else the decode head threshold, 0.5 for softmax models)')
    p.add_argument('--normalize', choices=['config', 'none'], default='config',
                   help="'config': apply the normalisation of the config's test pipeline to "
                   "each tile (default); 'none': the input is already normalised")
    p.add_argument('--device', default='cpu', help="'cpu', 'cuda' or 'cuda:N'")
    p.add_argument('--threads', type=int, help='torch CPU threads per process')
    p.add_argument('--prefetch', type=int, metavar='N',
                   help='batches of tiles read and normalised ahead in a background thread while '
                   'the model computes (pinned memory on CUDA); 0: read and compute in turn '
                   '(default 1 on CUDA, 0 on CPU)')
    add_trust_arg(p, 'the checkpoint')
    p.add_argument('--launcher', choices=['none', 'pytorch'], default='none',
                   help="'pytorch' under torchrun: split the scene over the processes")
    p.add_argument('--no-progress', action='store_true', help='no progress bar')
    p.add_argument('--onnx', action='store_true', help='CHECKPOINT is an ONNX model exported '
                   'by tools/export_onnx.py (run with onnxruntime)')
    p.add_argument('--backend', choices=['auto', 'torch', 'onnx'], default='auto',
                   help="engine of the forward passes: 'auto' = ONNX Runtime on CPU (the graph "
                   'exported once per checkpoint and tile size, cached beside the checkpoint or '
                   "in $LSZOO_CACHE), PyTorch on CUDA or where ONNX cannot run the model")
    p.add_argument('--tta', choices=['none', 'flip', 'd4'], default='none',
                   help='test-time augmentation: mean probability over 4 flips or 8 D4 views')
    p.add_argument('--quicklook', nargs='?', const='', metavar='PNG',
                   help='write a quicklook PNG (RGB + landslide outlines; default path '
                   'OUTPUT stem + _quicklook.png)')
    p.add_argument('--no-cog', action='store_true',
                   help='plain tiled GeoTIFFs instead of Cloud-Optimized GeoTIFFs')
    p.add_argument('--no-stac', action='store_true', help='no STAC Item beside the mask')
    p.add_argument('--overwrite', action='store_true',
                   help='many scenes: map scenes whose outputs are already complete again')
    return p.parse_args(argv)


def scene_options(args, tile: int, device: str) -> dict:
    """The :class:`~lszoo.apis.scene.SceneOptions` of the command line (both modes)."""
    return dict(tile=tile, overlap=args.overlap, batch=args.batch, window=args.window,
                device=device, threshold=args.threshold, input_bands=args.bands,
                normalize=args.normalize, tta=args.tta, cog=not args.no_cog,
                stac=not args.no_stac, prefetch=args.prefetch, min_area=args.min_area,
                fill_holes=args.fill_holes, backend=args.backend)


def run_many(args) -> int:
    """Whole scenes spread over the processes (lszoo.apis.scene.batch)."""
    import time

    from lszoo.apis.scene import SceneOptions, batch
    from lszoo.apis.scene.predictor import init_scene_model
    from lszoo.cli.tool import enable_trust

    start = time.perf_counter()
    if args.uncertainty:
        from lszoo.errors import ConfigError
        raise ConfigError('--uncertainty maps one scene; run the scenes one by one for it')
    plans = batch.plan_scenes(args.inputs, args.output, args.prob, args.polygons, args.dem,
                              args.quicklook, args.pre)
    device, rank, world = args.device, 0, 1
    if args.launcher == 'pytorch':  # gloo for the summary; scenes do not talk to each other
        import torch.distributed as dist

        from lszoo.cli.distributed import init_gloo
        init_gloo()
        rank, world = dist.get_rank(), dist.get_world_size()
        if device == 'cuda':
            device = f'cuda:{int(os.environ.get("LOCAL_RANK", 0))}'
    if args.trust_checkpoint:
        enable_trust()
    try:
        tile = args.tile or 512
        if args.onnx:
            from lszoo.deploy.onnx_predictor import OnnxTileModel
            model, cfg = OnnxTileModel(args.checkpoint, args.threads), args.config
            tile = args.tile or model.fixed_size or 512
        else:
            model, cfg = init_scene_model(args.config, args.checkpoint, device)
        options = scene_options(args, tile, device)
        SceneOptions(**options)  # one error for bad options, not one failure per scene
        with warnings.catch_warnings():
            from rasterio.errors import NotGeoreferencedWarning
            warnings.simplefilter('ignore', NotGeoreferencedWarning)
            outcomes = batch.map_scenes(
                model, cfg, plans, rank, world, overwrite=args.overwrite,
                checkpoint=None if args.onnx else args.checkpoint,
                log=lambda line: print(line, flush=True), progress=False, **options)
        everything = batch.gather_outcomes(outcomes, world)
    finally:
        if args.launcher == 'pytorch':
            import torch.distributed as dist
            if dist.is_initialized():
                dist.destroy_process_group()
    if everything is None:
        return 0
    print(batch.format_summary(everything, world, time.perf_counter() - start), flush=True)
    return 1 if any(o.status == 'failed' for o in everything) else 0


def run(args) -> int:
    import torch

    from lszoo.apis import map_scene
    from lszoo.cli.tool import enable_trust

    if args.threads:
        torch.set_num_threads(args.threads)
    from lszoo.apis.scene.batch import is_many
    if is_many(args.inputs):
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
        return run_many(args)
    args.input = args.inputs[0]
    device = args.device
    if args.launcher == 'pytorch':
        if device.startswith('cuda'):
            from mmengine.dist import init_dist
            init_dist('pytorch', backend='nccl')
            device = f'cuda:{int(os.environ.get("LOCAL_RANK", 0))}'
        else:  # mmengine's init_dist calls torch.cuda.set_device: start gloo from torchrun's env
            from lszoo.cli.distributed import init_gloo
            init_gloo()
    if args.trust_checkpoint:
        enable_trust()

    def on_term(signum, frame):  # kill / torchrun stopping a failed job: clean up like Ctrl-C
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_term)

    model, cfg, tile = args.config, None, args.tile or 512
    if args.onnx:
        from lszoo.deploy.onnx_predictor import OnnxTileModel
        model, cfg = OnnxTileModel(args.checkpoint, args.threads), args.config
        tile = args.tile or model.fixed_size or 512
    quicklook = args.quicklook
    if quicklook == '':
        from lszoo.geo.quicklook import default_quicklook_path
        quicklook = default_quicklook_path(args.output)
    try:
        with warnings.catch_warnings():
            from rasterio.errors import NotGeoreferencedWarning
            warnings.simplefilter('ignore', NotGeoreferencedWarning)  # lszoo warns once itself
            res = map_scene(
                model, args.input, args.output, None if args.onnx else args.checkpoint,
                cfg=cfg, dem=args.dem, pre=args.pre, prob=args.prob, polygons=args.polygons,
                quicklook=quicklook, progress=not args.no_progress,
                uncertainty=args.uncertainty,
                **scene_options(args, tile, device))
    finally:
        if args.launcher == 'pytorch':
            import torch.distributed as dist
            if dist.is_initialized():
                dist.destroy_process_group()
    if res.times and (args.launcher == 'none' or int(os.environ.get('RANK', 0)) == 0):
        t = res.times
        if args.no_progress:  # else map_scene said it before the progress bar
            print(res.backend, flush=True)
        print(f'{res.output}: {res.height}x{res.width}, {res.n_tiles} tiles, '
              f'{res.landslide_pixels} landslide pixels at prob > {res.threshold:g} '
              f'({res.threshold_source})'
              + (f', {res.n_polygons} polygons -> {res.polygons}' if res.polygons else '')
              + f'; {t["total"]:.1f} s (model {t["model"]:.1f} s, '
              f'{100 * res.outside_model_share():.0f} % outside the model, '
              f'{res.height * res.width / 1e6 / t["total"]:.2f} megapixels/s) on '
              f'{res.world_size} process(es)')
    return 0


def main(argv=None) -> int:
    from lszoo.cli.tool import run_tool
    return run_tool(run, parse_args(argv))


LSZOO_TOOL = True  # lszoo registers its modules after parsing: --help stays fast

if __name__ == '__main__':
    sys.exit(main())
