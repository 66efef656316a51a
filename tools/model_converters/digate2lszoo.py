#!/usr/bin/env python
"""Convert a checkpoint of DiGATe-UNet's reference code
(github mishaown/DiGATe-UNet-LandSlide-Segmentation) to lszoo.

    python tools/model_converters/digate2lszoo.py SRC DST [--trust-checkpoint]

SRC: the reference's saved ``model.state_dict()`` (its training script saves the epoch with
the best validation Dice that way; a dict wrapping it under 'state_dict' / 'model' also works).
DST: an lszoo checkpoint for ``configs/digate_unet/digate_unet_bijie.py`` (two
tf_efficientnet_b4 streams) that ``tools/test.py`` loads. Mapping:
:mod:`lszoo.models.converters.digate`. Bad input: one ``lszoo: error:`` line, exit 2.
"""
import argparse
import sys


def parse_args(argv=None):
    from lszoo.cli.tool import add_trust_arg

    parser = argparse.ArgumentParser(description='DiGATe-UNet reference checkpoint -> lszoo')
    parser.add_argument('src', help='state dict saved by the DiGATe-UNet reference code')
    parser.add_argument('dst', help='lszoo checkpoint to write')
    add_trust_arg(parser, 'SRC')
    args = parser.parse_args(argv)
    return args


def convert(args) -> int:
    from lszoo.models.converters import convert_checkpoint_file, convert_digate
    if args.trust_checkpoint:
        from lszoo.cli.tool import enable_trust
        enable_trust()
    n = convert_checkpoint_file(args.src, args.dst, convert_digate, 'DiGATe-UNet')
    print(f'{args.dst}: {n} tensors converted from {args.src}')
    return 0


def main(argv=None) -> int:
    from lszoo.cli.tool import run_tool
    return run_tool(convert, parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
