#!/usr/bin/env python
"""Export a trained lszoo model to ONNX for QGIS (Deepness) and ``tools/infer_scene.py --onnx``.

    python tools/export_onnx.py CONFIG CHECKPOINT OUT.onnx [--tile 512] [--overlap 64]
                                [--resolution-cm 1000] [--threshold T] [--dynamic-size]

The graph takes the raster's values (N x C x H x W, float32, bands in the config's order),
applies the config's test-pipeline normalisation, and outputs the landslide probability
(N x 1 x H x W); a change (pre/post) model takes both dates stacked, the pre-event bands first,
then the post-event bands (the metadata say so). The export is checked with onnxruntime against
PyTorch (max abs probability difference printed; above 1e-4 nothing is written).
``--dynamic-size`` leaves height and width free where the architecture allows (Deepness needs
a fixed tile size, the default).
A temperature fitted by ``tools/test.py --calibrate`` beside the checkpoint is folded into the
graph (its output is the calibrated probability) and recorded in ``lszoo_temperature``.
See docs/deployment.md.
"""
import argparse
import sys


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Export an lszoo model to ONNX (Deepness metadata)')
    p.add_argument('config', help='model config file')
    p.add_argument('checkpoint', help='local checkpoint file (.pth)')
    p.add_argument('out', help='output .onnx file')
    p.add_argument('--tile', type=int, default=512, help='tile size in pixels (default 512)')
    p.add_argument('--overlap', type=int, default=64,
                   help='tile overlap in pixels, stored as a percentage for Deepness')
    p.add_argument('--resolution-cm', type=float,
                   help='ground resolution the model was trained at, in cm/px (Deepness)')
    p.add_argument('--threshold', type=float,
                   help='probability threshold (default: the one calibrated beside the '
                   'checkpoint by tools/test.py --calibrate, else the decode head threshold)')
    p.add_argument('--dynamic-size', action='store_true',
                   help='free height/width where the architecture allows (not for Deepness)')
    p.add_argument('--input-scale', type=float,
                   help="Deepness feeds uint8/255; the graph gets that times this (default: 255 "
                   "when the config normalises 8-bit values, else 1)")
    p.add_argument('--opset', type=int, default=17, help='ONNX opset (default 17)')
    p.add_argument('--trust-checkpoint', action='store_true',
                   help='load the checkpoint as a full pickle (can run code; trusted files only)')
    return p.parse_args(argv)


def body(args) -> int:
    import json
    import os.path as osp

    from lszoo.deploy.onnx_export import require_onnx
    from lszoo.errors import CheckpointError, ConfigError

    require_onnx()
    if not args.out.endswith('.onnx'):
        raise ConfigError(f'output {args.out}: the file name must end in .onnx')
    if not osp.isfile(args.checkpoint):
        raise CheckpointError(f'checkpoint file {args.checkpoint} does not exist')
    if args.trust_checkpoint:
        from lszoo.cli.tool import enable_trust
        enable_trust()
    from lszoo.utils.output_lock import output_locks
    with output_locks({'OUT': args.out}):  # a second export to the same file stops at once
        res = _export(args)
    size = 'dynamic height/width' if res.dynamic_hw else f'fixed {args.tile}x{args.tile} tiles'
    from lszoo.evaluation.threshold import temperature_message
    temp = json.loads(res.metadata['lszoo_temperature'])
    print(temperature_message(temp, json.loads(res.metadata['lszoo_temperature_source']))
          + (', folded into the graph' if temp else ''))
    print(f'{res.path}: {size}, dynamic batch; onnxruntime vs PyTorch max abs probability '
          f'difference {res.max_abs_diff:.2e} on inputs {res.checked_shapes}')
    return 0


def _export(args):
    """Build the model from CONFIG + CHECKPOINT and write OUT (checked against PyTorch)."""
    import json
    import os.path as osp

    from lszoo.apis.scene import init_scene_model
    from lszoo.deploy.onnx_export import export_onnx
    from lszoo.utils.fileio import sha256_file
    from lszoo.version import __version__

    model, cfg = init_scene_model(args.config, args.checkpoint, 'cpu')
    extra = {'lszoo_version': __version__, 'lszoo_config': osp.basename(args.config),
             'lszoo_checkpoint_sha256': sha256_file(args.checkpoint)}
    res = export_onnx(model, cfg, args.out, tile_size=args.tile, overlap=args.overlap,
                      threshold=args.threshold, resolution_cm=args.resolution_cm,
                      dynamic_hw=args.dynamic_size, opset=args.opset,
                      input_scale=args.input_scale, checkpoint=args.checkpoint,
                      extra_metadata={k: json.dumps(v) for k, v in extra.items()})
    return res


def main(argv=None):
    args = parse_args(argv)
    from lszoo.cli.tool import run_tool
    return run_tool(body, args)


LSZOO_TOOL = True  # lszoo registers its modules after parsing: --help stays fast

if __name__ == '__main__':
    sys.exit(main())
