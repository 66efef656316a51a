#!/usr/bin/env python
"""DiGATe-UNet speed beside its authors' implementation, as ratios measured in one run.

    git clone https://github.com/mishaown/DiGATe-UNet-LandSlide-Segmentation /path/to/ref
    pip install segmentation-models-pytorch        # the reference's loss needs it
    python tools/benchmark_digate_reference.py --reference /path/to/ref \\
        [--config configs/digate_unet/digate_unet_bijie.py] [--shape 256 256] \\
        [--eval-batches 1 8] [--train-batch 4] [--reps 5] [--threads 1] \\
        [--options eager compile onnx] [--json FILE]

Builds the reference as the paper runs it (two frozen ``tf_efficientnet_b4`` encoders, random
weights: nothing downloads) and lszoo's model with the same weights, checks that their eval
logits and first training loss agree (printed), then times, interleaved in one process: the eval
forward at each ``--eval-batches`` size and a training step (forward, loss, backward, Adam) at
``--train-batch``. Options: ``eager`` (lszoo as configured), ``compile`` (the frozen encoders
through ``torch.compile``, ``model.backbone.compile_frozen=True``), ``onnx`` (lszoo's graph in
ONNX Runtime; inference only). The first calls (the agreement check) are timed apart: they
include compiling.
See ``lszoo/cli/digate_reference.py``; results in ``docs/benchmarks/digate_reference.md``.
"""
import argparse
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='DiGATe-UNet vs the authors\' code (lszoo)')
    p.add_argument('--reference', required=True, help='folder of a clone of '
                   'github.com/mishaown/DiGATe-UNet-LandSlide-Segmentation')
    p.add_argument('--config', default=osp.join(REPO, 'configs', 'digate_unet',
                                                'digate_unet_bijie.py'))
    p.add_argument('--shape', type=int, nargs=2, default=(256, 256), metavar=('H', 'W'))
    p.add_argument('--eval-batches', type=int, nargs='+', default=[1, 8])
    p.add_argument('--train-batch', type=int, default=4)
    p.add_argument('--reps', type=int, default=5, help='interleaved repetitions (default 5)')
    p.add_argument('--threads', type=int, default=1, help='torch / onnxruntime threads')
    p.add_argument('--options', nargs='+', default=['eager', 'compile', 'onnx'],
                   choices=['eager', 'compile', 'onnx'])
    p.add_argument('--json', help='also write the results to this JSON file')
    return p.parse_args(argv)


def format_rows(label, rows) -> str:
    lines = [f'{label}:', f"  {'contender':<22}{'median':>11}{'vs reference':>14}"
             f"{'IQR':>15}{'vs eager':>10}"]
    for name, r in rows.items():
        v = r['vs_reference']
        e = r.get('vs_eager', {}).get('ratio_median')
        lines.append(f"  {name:<22}{v['b_ms_median']:>9.1f}ms{v['ratio_median']:>14.3f}"
                     f"{v['ratio_q1']:>8.3f}-{v['ratio_q3']:.3f}"
                     f"{'' if e is None else format(e, '.3f'):>10}")
    return '\n'.join(lines)


def run(args) -> int:
    import torch

    from lszoo.cli import digate_reference as dr
    from lszoo.cli.benchmark import cpu_name
    from lszoo.cli.tool import load_config, write_json
    from lszoo.errors import ConfigError
    if min(args.eval_batches + [args.train_batch, args.reps, args.threads]) < 1:
        raise ConfigError('--eval-batches, --train-batch, --reps and --threads must be >= 1')
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    torch.set_num_threads(args.threads)
    cfg = load_config(args.config)
    shape = tuple(args.shape)
    cs = dr.build_contenders(args.reference, cfg, args.config, shape, args.train_batch,
                             args.threads, args.options)
    result = dict(machine=cpu_name(), torch=torch.__version__, threads=args.threads,
                  shape=list(shape), reps=args.reps, agreement=dr.check_agreement(cs, cs[0].x))
    print(f'{result["machine"]}, torch {torch.__version__}, {args.threads} thread(s), '
          f'{args.reps} interleaved repetitions')
    for name, d in result['agreement']['max_abs_diff'].items():
        print(f'  max |lszoo - reference| {name}: {d:.2e}')
    print('  first calls, eval batch 1 / training loss (s; compiling happens here): ' + ', '.join(
        f'{n} ' + '/'.join(f'{t:.1f}' for t in f.values())
        for n, f in result['agreement']['first_call_s'].items()))
    for i, b in enumerate(args.eval_batches):
        dr.set_eval_input(cs, torch.rand(b, 4, *shape))
        measures = ['time_eval'] + (['time_train'] if i == 0 else [])
        first = dr.first_calls(cs, measures)
        rows = dr.compare(cs, measures, args.reps,
                          dict(time_eval=b, time_train=args.train_batch))
        result[f'eval_batch_{b}'] = dict(warmup_s=first, rows=rows['time_eval'])
        print(format_rows(f'eval forward, batch {b}, {shape[0]}x{shape[1]}', rows['time_eval']))
        if i == 0:
            result['train'] = dict(warmup_s=first, rows=rows['time_train'])
            print(format_rows(f'training step, batch {args.train_batch}', rows['time_train']))
        print('  warm-up calls (s): ' + ', '.join(
            f'{n} ' + '/'.join(f'{t:.1f}' for t in f.values()) for n, f in first.items()))
    if args.json:
        write_json(args.json, result)
    return 0


def main(argv=None) -> int:
    from lszoo.cli.tool import run_tool
    return run_tool(run, parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
