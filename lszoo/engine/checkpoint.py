"""Checkpoint I/O under the names the tools, tests and docs use (``lszoo.engine.checkpoint``).

The code lives below the engine so that models, datasets and evaluation can use it too: safe
loading and the trust opt-in in :mod:`lszoo.utils.checkpoint`, atomic writing and the stale
temporary-file reaper in :mod:`lszoo.utils.fileio`.
"""
import os  # noqa: F401  (tests patch ``lszoo.engine.checkpoint.os.fsync``)

from lszoo.utils.checkpoint import (TRUST_WARNING, checkpoint_safe_globals,  # noqa: F401
                                    is_checkpoint_trusted, load_checkpoint_file,
                                    set_trust_checkpoint, torch_load_safe)
from lszoo.utils.fileio import (TMP_MARK, atomic_write_bytes, pid_alive,  # noqa: F401
                                remove_stale_temp_files)
