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


class LSZooWarning(UserWarning):
    """Base of lszoo's warnings that the tools print as one ``lszoo: warning: ...`` line."""


class SceneWarning(LSZooWarning):
    """Scene inference runs, but on an assumption or with a gap the user must know about (a DEM
    covering part of the scene, bands taken by position)."""


_WORKER_HEAD = 'Caught '


def unwrap_worker_error(err: BaseException) -> BaseException:
    """The original error of one re-raised from a DataLoader worker.

    torch re-raises a worker's exception in the main process as ``type(err)(text)`` where
    ``text`` is ``'Caught DataError in DataLoader worker process 0.\\nOriginal Traceback ...'``
    followed by the worker's whole traceback (``torch._utils.ExceptionWrapper.reraise``). For an
    :class:`LSZooError` this returns a new error of the same type whose message is the original
    one (the traceback's last line), so the tools print one ``lszoo: error:`` line as for the
    main process. Anything else is returned unchanged.
    """
    text = str(err)
    if not isinstance(err, LSZooError) or not text.startswith(_WORKER_HEAD) or \
            'Original Traceback' not in text:
        return err
    name = type(err).__name__
    lines = text.rstrip('\n').splitlines()
    for i in range(len(lines) - 1, -1, -1):
        head, sep, message = lines[i].partition(': ')
        if sep and (head == name or head.endswith('.' + name)):
            tail = '\n'.join([message] + lines[i + 1:])  # a message that spans lines
            return type(err)(tail)
    return err
