"""Pausing Python's cyclic garbage collector while a message's tree is built.

A full Unix agent inventory becomes about 7,600 ElementTree elements, as many ``Node``
objects with their attribute dicts and child lists, then thousands of row mappings: tens
of thousands of container objects that all stay alive until the request ends. Each 700
allocations start a collection of the youngest generation, which finds them all alive and
promotes them, and the promotions soon start full collections, which walk every object
of a server process (Django, its models, every module). Measured in one process on the
benchmark's first inventory (bench/README.md, "Where the time goes"): 20 ms of the 40 ms
that reading the document took, 20 % of the request. The trees hold no reference cycles
(children never point to their parent), so reference counting frees them whatever the
collector does; pausing it only defers the collection of cycles made elsewhere to the
end of the pause.

The collector is global to the process and a server runs several threads: pauses nest
and overlap through a count, and the collector is enabled again, if it was enabled
before the first pause, when the last one ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection in this process until the block (and every other
    pause that overlaps it) ends."""
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
