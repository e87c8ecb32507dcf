"""Fixtures of the deployment engine's tests: a PKI made once, a fake clock, a running site."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.deployment.site import Pki, Site, make_pki, serving


class FakeClock:
    """Time that moves only when slept through; every sleep is recorded."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.current = now
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.current += seconds


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def site(pki: Pki) -> Iterator[Site]:
    with serving(Site(), pki) as running:
        yield running


@pytest.fixture
def vardir(tmp_path: Path) -> Path:
    path = tmp_path / "vardir"
    path.mkdir()
    return path
