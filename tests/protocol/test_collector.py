"""Pausing the cyclic collector while a message's tree is built (protocol/collector.py)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from ocelot.protocol.collector import collector_paused
from ocelot.protocol.messages import Inventory, read_message, read_request
from ocelot.protocol.xmltree import parse_xml
from tests.inventory.payloads import UNIX_SAMPLE


@pytest.fixture(autouse=True)
def collector_enabled() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_the_collector_is_off_during_a_pause_and_on_again_after_it() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_overlapping_pauses_of_two_threads_end_with_the_last_one() -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with collector_paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with collector_paused():
            second_in.set()
            first_out.wait(5)
            seen.append(gc.isenabled())  # the first thread's pause has ended, not this one

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == [False]
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_an_error_inside_the_pause_still_ends_it() -> None:
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_read_message_reads_what_read_request_reads_and_leaves_the_collector_on() -> None:
    xml = UNIX_SAMPLE
    message = read_message(xml)
    assert isinstance(message, Inventory)
    assert message == read_request(parse_xml(xml))
    assert gc.isenabled()
