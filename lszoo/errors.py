"""Errors lszoo raises for bad input.

Each carries a message that names the file (or config key) and the problem. ``tools/*.py`` catch
:class:`LSZooError` and print the message alone, without a traceback from deep inside mmengine.
"""


class LSZooError(Exception):
    """Base class of every user-facing lszoo error."""


class DataError(LSZooError, ValueError):
    """A dataset file, folder or split is missing, unreadable or inconsistent."""


class ConfigError(LSZooError, ValueError):
    """A config is inconsistent (unknown type, channel count mismatch, missing key)."""


class CheckpointError(LSZooError, RuntimeError):
    """A checkpoint file is missing, not a checkpoint, or holds unsafe content."""
