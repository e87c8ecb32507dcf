"""The agent endpoint's threads under granian (server/answer_threads.py): each reply is
sent from the thread that made it, the request's task learns the status or the error,
and no more than the configured number of calls run at once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from ocelot.server.answer_threads import AnswerThreads

T = TypeVar("T")

REPLY = (200, [("Content-Type", "application/x-compress")], b"x\x9c\x03\x00\x00\x00\x00\x01")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a loop of its own in a thread of its own, as in a granian worker
    (the test's thread may hold a running loop already: Playwright's synchronous API
    leaves one in the browser tests' xdist worker)."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def main() -> None:
        try:
            outcome.append(asyncio.run(coroutine))
        except BaseException as error:  # handed to the test's thread
            failure.append(error)

    thread = threading.Thread(target=main)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]


class Proto:
    """What granian hands the application: here it records the replies sent on it."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.sent: list[tuple[int, list[tuple[str, str]], bytes, str]] = []

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        if self.fail:
            raise ConnectionResetError("the client went away")
        self.sent.append((status, headers, body, threading.current_thread().name))


def test_the_reply_is_sent_by_the_agent_thread_and_the_task_gets_its_status() -> None:
    threads = AnswerThreads(2)
    proto = Proto()

    async def request() -> int:
        return await threads.answer(lambda: REPLY, proto)

    try:
        assert run(request()) == 200
    finally:
        threads.close()
    assert proto.sent == [(*REPLY, "ocelot-agent")]


def test_an_error_of_the_endpoint_reaches_the_task_and_nothing_is_sent() -> None:
    threads = AnswerThreads(1)
    proto = Proto()

    def broken() -> tuple[int, list[tuple[str, str]], bytes]:
        raise ValueError("a bug in the endpoint")

    async def request() -> int:
        return await threads.answer(broken, proto)

    try:
        with pytest.raises(ValueError, match="a bug in the endpoint"):
            run(request())
        # The thread survived it: the next request is answered.
        assert run(_answered(threads, Proto())) == 200
    finally:
        threads.close()
    assert proto.sent == []


def test_a_reply_that_cannot_be_sent_reaches_the_task_as_an_error() -> None:
    threads = AnswerThreads(1)

    async def request() -> int:
        return await threads.answer(lambda: REPLY, Proto(fail=True))

    try:
        with pytest.raises(ConnectionResetError):
            run(request())
    finally:
        threads.close()


async def _answered(threads: AnswerThreads, proto: Proto) -> int:
    return await threads.answer(lambda: REPLY, proto)


def test_no_more_calls_run_at_once_than_there_are_threads_and_every_one_is_answered() -> None:
    threads = AnswerThreads(3)
    running = 0
    most = 0
    lock = threading.Lock()

    def slow() -> tuple[int, list[tuple[str, str]], bytes]:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return REPLY

    protos = [Proto() for _ in range(12)]

    async def burst() -> list[int]:
        return list(await asyncio.gather(*(threads.answer(slow, proto) for proto in protos)))

    try:
        assert run(burst()) == [200] * 12
    finally:
        threads.close()
    assert most == 3
    assert all(len(proto.sent) == 1 for proto in protos)


def test_closing_lets_the_queued_jobs_finish_then_ends_the_threads() -> None:
    threads = AnswerThreads(2)
    protos = [Proto() for _ in range(6)]

    def slow() -> tuple[int, list[tuple[str, str]], bytes]:
        time.sleep(0.01)
        return REPLY

    async def burst() -> list[int]:
        futures = [threads.answer(slow, proto) for proto in protos]
        threads.close()
        return list(await asyncio.gather(*futures))

    assert run(burst()) == [200] * 6
    started = threads._started
    assert len(started) == 2
    for thread in started:
        thread.join(timeout=5)
    assert not any(thread.is_alive() for thread in started)
