"""Name mappings from the authors' reference implementations to lszoo's models.

One code path for both uses: the converters in ``tools/model_converters/*2lszoo.py`` turn a
checkpoint saved by the authors' code into an lszoo checkpoint, and the golden tests load the
reference tensors of ``../shared/golden`` into lszoo's models with the same functions.
"""
from .common import (convert_checkpoint_file, rename_keys, reference_state_dict,
                     save_lszoo_checkpoint)
from .digate import convert_digate
from .geonext import convert_geonext

__all__ = ['convert_checkpoint_file', 'convert_digate', 'convert_geonext',
           'reference_state_dict', 'rename_keys', 'save_lszoo_checkpoint']
