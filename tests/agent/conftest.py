"""Fixtures of the agent's tests: the captured machines under tests/data/agent/."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocelot.agent.host import CapturedHost
from ocelot.agent.inventory import Collected, collect

CAPTURES = Path(__file__).resolve().parents[1] / "data" / "agent"
MACHINES = ("debian12-vm", "fedora40-laptop", "debian12-server")


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Install dates and DEVICEIDs are local time: the tests read them in UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(autouse=True)
def agent_logging() -> Iterator[None]:
    """``ocelot agent`` configures its logger (its own handler, no propagation): undo it."""
    logger = logging.getLogger("ocelot.agent")
    saved = (list(logger.handlers), logger.propagate, logger.level)
    yield
    logger.handlers[:], logger.propagate, logger.level = saved[0], saved[1], saved[2]


def machine(name: str) -> CapturedHost:
    return CapturedHost(CAPTURES / name)


def inventory_of(name: str) -> Collected:
    return collect(machine(name))
