"""Training-time machinery: runner, hooks, safe checkpoint I/O."""
from . import hooks  # noqa: F401
