"""``--logfile`` rotates by size (``--logfile-maxsize``, ``--logfile-backups``), or not at all."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocelot.agent.command import _configure_logging


@pytest.fixture(autouse=True)
def restore_agent_logger() -> Iterator[None]:
    logger = logging.getLogger("ocelot.agent")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    for handler in logger.handlers:
        handler.close()
    logger.handlers[:], logger.level, logger.propagate = saved


def fill(megabytes: int) -> None:
    line = "x" * 1000
    for _ in range(megabytes * 1100):
        logging.getLogger("ocelot.agent.run").info(line)


def test_the_log_file_rotates_at_its_size_and_keeps_the_given_count(tmp_path: Path):
    log = tmp_path / "agent.log"
    _configure_logging(False, True, log, maxsize_mb=1, backups=2)
    fill(4)
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == ["agent.log", "agent.log.1", "agent.log.2"]
    assert all(path.stat().st_size <= 1024 * 1024 for path in tmp_path.iterdir())


def test_zero_backups_means_one_growing_file_for_logrotate(tmp_path: Path):
    log = tmp_path / "agent.log"
    _configure_logging(False, True, log, maxsize_mb=1, backups=0)
    fill(2)
    assert [path.name for path in tmp_path.iterdir()] == ["agent.log"]
    assert log.stat().st_size > 2 * 1024 * 1024
