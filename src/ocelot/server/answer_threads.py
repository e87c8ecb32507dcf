"""Threads that answer agent requests and send each reply from the thread that made it.

The agent endpoint blocks (the database), so under granian's RSGI interface it runs beside
the worker's event loop, in threads of its own. asyncio's ``run_in_executor`` made that
hand-off cost more than it had to: a ``concurrent.futures`` future chained to an asyncio
one, the executor's work queue and idle semaphore, and a second turn of the event loop
to send the reply once the thread was done. Here a job goes through one
``queue.SimpleQueue``, the thread sends the reply itself (granian's ``proto`` may be
called from any thread), and the loop only learns the status, for the access log.

Measured in the sixth session with ``bench`` PROLOGs at concurrency 32, paired runs on
SQLite (eight each): with granian's Rust task implementation (``--task-impl rust``,
cli/server.py), 0.80 -> 0.68 ms of server CPU per PROLOG and 1,749 -> 2,139 PROLOGs/s;
without it, 0.77 ms and 1,936/s; the Rust tasks alone changed nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any

Reply = tuple[int, list[tuple[str, str]], bytes]
_Job = tuple[Callable[[], Reply], Any, "asyncio.Future[int]", asyncio.AbstractEventLoop]


def _settle(future: asyncio.Future[int], status: int | None, error: BaseException | None) -> None:
    if future.done():  # the request's task was cancelled meanwhile
        return
    if error is not None:
        future.set_exception(error)
    else:
        assert status is not None
        future.set_result(status)


class AnswerThreads:
    """``threads`` threads, started in the worker process at its first request."""

    def __init__(self, threads: int) -> None:
        self.threads = max(1, threads)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._started: list[threading.Thread] = []
        self._lock = threading.Lock()

    def answer(self, call: Callable[[], Reply], proto: Any) -> asyncio.Future[int]:
        """Run ``call`` in a thread, send its reply on ``proto``; the future gets the
        status sent, or what ``call`` or the sending raised (nothing was sent then)."""
        if len(self._started) < self.threads:
            self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._jobs.put((call, proto, future, loop))
        return future

    def close(self) -> None:
        """Let the threads finish the jobs queued before this, then end."""
        for _ in self._started:
            self._jobs.put(None)

    def _start(self) -> None:
        with self._lock:
            while len(self._started) < self.threads:
                thread = threading.Thread(target=self._work, name="ocelot-agent", daemon=True)
                thread.start()
                self._started.append(thread)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            call, proto, future, loop = job
            status: int | None = None
            error: BaseException | None = None
            try:
                status, headers, content = call()
                proto.response_bytes(status, headers, content)
            except BaseException as exc:  # handed to the request's task, which raises it
                error = exc
            # RuntimeError: the worker's loop is closed, it is shutting down.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, status, error)
            del job, call, proto, future, error
