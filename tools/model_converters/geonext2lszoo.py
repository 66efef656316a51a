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
import sys


def main(argv=None) -> int:
    from lszoo.cli.convert import converter_main
    from lszoo.models.converters import convert_geonext
    return converter_main(argv, 'GeoNeXt', convert_geonext, ema=True)


if __name__ == '__main__':
    sys.exit(main())
