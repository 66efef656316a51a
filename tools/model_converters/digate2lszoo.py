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
import sys


def main(argv=None) -> int:
    from lszoo.cli.convert import converter_main
    from lszoo.models.converters import convert_digate
    return converter_main(argv, 'DiGATe-UNet', convert_digate)


if __name__ == '__main__':
    sys.exit(main())
