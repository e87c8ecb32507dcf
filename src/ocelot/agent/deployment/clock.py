"""Time as the engine sees it: injectable, so tests run latencies and expiry without sleeping."""

from __future__ import annotations

import time


class Clock:
    """The real clock: ``now()`` in epoch seconds, ``sleep(seconds)``."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)
