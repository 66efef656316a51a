#!/usr/bin/env python
"""Convert a checkpoint of GeoNeXt's reference code (github ruribev/GeoNeXt) to lszoo.

    python tools/model_converters/geonext2lszoo.py SRC DST [--ema] [--trust-checkpoint]

SRC: a file saved by the reference (``best_model.pth.tar`` = ``{'epoch', 'state_dict', 'ema',
...}``, or a bare ``model.state_dict()``). DST: an lszoo checkpoint for
``configs/geonext/geonext_cas.py`` (tiny, RGB, one output channel) that ``tools/test.py`` loads.
``--ema`` takes the parameters from the reference's EMA shadow. The reference also pickles its
training config and history into the file: loading those needs ``--trust-checkpoint`` (only for
files you trust). Mapping: :mod:`lszoo.models.converters.geonext`. Bad input: one
``lszoo: error:`` line, exit 2.
"""
import argparse
import sys


def parse_args(argv=None):
    from lszoo.cli.tool import add_trust_arg

    parser = argparse.ArgumentParser(description='GeoNeXt reference checkpoint -> lszoo')
    parser.add_argument('src', help='checkpoint saved by the GeoNeXt reference code')
    parser.add_argument('dst', help='lszoo checkpoint to write')
    parser.add_argument('--ema', action='store_true',
                        help="use the parameters of the checkpoint's EMA shadow")
    add_trust_arg(parser, 'SRC')
    args = parser.parse_args(argv)
    return args


def convert(args) -> int:
    from lszoo.models.converters import convert_checkpoint_file, convert_geonext
    if args.trust_checkpoint:
        from lszoo.cli.tool import enable_trust
        enable_trust()
    n = convert_checkpoint_file(args.src, args.dst, convert_geonext, 'GeoNeXt', args.ema)
    print(f'{args.dst}: {n} tensors converted from {args.src}')
    return 0


def main(argv=None) -> int:
    from lszoo.cli.tool import run_tool
    return run_tool(convert, parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
