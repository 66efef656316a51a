"""Reading ahead: the next batches of tiles are read and normalised in a background thread while
the model computes the current one.

GDAL (through rasterio) and torch release the GIL while they work, so one reader thread overlaps
reading and normalising with the forward pass. A bounded queue keeps the reader at most
``depth`` batches ahead (memory stays bounded); an error in the reader is re-raised in the
consuming thread as the same exception object, and the thread is joined on every exit. On CUDA
the batches are put in pinned (page-locked) host memory, in the reader thread, so that their copy
to the GPU can run asynchronously (``non_blocking=True``).
"""
import queue
import threading
from contextlib import nullcontext
from typing import Callable, ContextManager, Iterable, Optional

import torch

# Batches read ahead when the options leave it open. CUDA: 1, the GPU then waits for nothing but the
# copy. CPU: 0, measured side by side (`python tools/analysis_tools/benchmark_scene.py
# --compare-prefetch 0 1`, docs/performance.md): the model takes most of the time, reading ahead hid
# ~0.15 s of a 3-12 s scene, and the throughput ratios (medians 1.03 and 0.90) were within the
# noise: no gain worth a thread that competes with the model for the cores.
CUDA_PREFETCH = 1
CPU_PREFETCH = 0

_ITEM, _END, _ERROR = range(3)


def default_prefetch(device) -> int:
    """Batches read ahead by default on ``device``."""
    return CUDA_PREFETCH if torch.device(device).type == 'cuda' else CPU_PREFETCH


def pin_for(x: torch.Tensor, device) -> torch.Tensor:
    """``x`` in pinned memory when it is going to a CUDA device (its copy can then be
    asynchronous), else ``x`` itself: ``pin_memory`` raises where CUDA is absent."""
    if torch.device(device).type == 'cuda' and torch.cuda.is_available():
        return x.pin_memory()
    return x


class Prefetcher:
    """Iterates ``items`` in a background thread, at most ``depth`` items ahead of the consumer.

    Use it as a context manager: leaving it (normally, on an error or an interrupt in the
    consumer) stops the reader at its next item and joins the thread. An exception raised while
    producing an item is raised by the consumer's ``next`` (the same object: type, message and
    the reader's traceback). ``context`` (e.g. a ``rasterio.Env`` factory: GDAL settings are per
    thread) is entered in the reader thread around the iteration.
    """

    def __init__(self, items: Iterable, depth: int,
                 context: Optional[Callable[[], ContextManager]] = None,
                 name: str = 'lszoo-scene-reader'):
        if depth < 1:
            raise ValueError(f'depth must be >= 1, got {depth}')
        self._items, self._context = items, context or nullcontext
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _put(self, kind, value) -> bool:
        """Queue one entry; ``False`` when the consumer asked the reader to stop."""
        while not self._stop.is_set():
            try:
                self._queue.put((kind, value), timeout=0.05)
                return True
            except queue.Full:
                pass
        return False

    def _run(self) -> None:
        try:
            with self._context():
                it = iter(self._items)
                try:
                    for item in it:
                        if not self._put(_ITEM, item):
                            return
                finally:
                    if hasattr(it, 'close'):  # a generator left early runs its finally blocks
                        it.close()
            self._put(_END, None)
        except BaseException as err:  # noqa: B902  (handed to the consumer, raised there)
            self._put(_ERROR, err)

    def __iter__(self):
        return self

    def __next__(self):
        if self._done:
            raise StopIteration
        while True:
            try:
                kind, value = self._queue.get(timeout=0.5)
                break
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    self._done = True
                    raise RuntimeError('the scene reader thread ended without a result')
        if kind == _ITEM:
            return value
        self._done = True
        if kind == _ERROR:
            raise value
        raise StopIteration

    def close(self) -> None:
        """Stop the reader (it finishes the item in hand) and join its thread."""
        self._stop.set()
        while True:  # drop what was read ahead (and its memory) now
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join()
        self._done = True

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
