"""``LogFile.pump``: the listeners' access lines copied into server.log a block at a time
(server/logfiles.py), whole, in order, none lost."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from ocelot.server.logfiles import BLOCK, GATHER, LogFile


def test_lines_cut_anywhere_by_the_writes_arrive_whole_and_in_order(tmp_path: Path) -> None:
    log = LogFile(tmp_path / "server.log", max_bytes=0, backups=0, echo=False)
    read_end, write_end = os.pipe()
    log.pump(os.fdopen(read_end, "rb"))
    text = b"".join(b'127.0.0.1 "GET /download/7/7-%d HTTP/1.1" 200 0.1ms\r\n' % n for n in range(3000))
    text += b"the last line, without its end"

    def write() -> None:
        with os.fdopen(write_end, "wb", buffering=0) as pipe:
            for start in range(0, len(text), 777):  # pieces that cut lines anywhere
                pipe.write(text[start : start + 777])
                if start % 7770 == 0:
                    time.sleep(0.001)

    writer = threading.Thread(target=write)
    writer.start()
    writer.join()
    log.close()
    written = (tmp_path / "server.log").read_text()
    expected = [f'127.0.0.1 "GET /download/7/7-{n} HTTP/1.1" 200 0.1ms' for n in range(3000)]
    assert written.splitlines() == [*expected, "the last line, without its end"]


def test_a_line_longer_than_a_block_is_cut_never_lost(tmp_path: Path) -> None:
    log = LogFile(tmp_path / "server.log", max_bytes=0, backups=0, echo=False)
    read_end, write_end = os.pipe()
    log.pump(os.fdopen(read_end, "rb"))
    with os.fdopen(write_end, "wb") as pipe:
        pipe.write(b"x" * (3 * BLOCK) + b"\nend\n")
    log.close()
    written = (tmp_path / "server.log").read_text().splitlines()
    assert "".join(written[:-1]) == "x" * (3 * BLOCK) and written[-1] == "end"


class CountingLogFile(LogFile):
    """A LogFile that counts its writes (one per block the pump copies)."""

    writes = 0

    def write_line(self, line: str) -> None:
        self.writes += 1
        super().write_line(line)


def test_lines_that_trickle_in_are_copied_many_at_a_time(tmp_path: Path) -> None:
    # A busy server's access lines come one by one; the pump lets them gather for GATHER
    # seconds after emptying the pipe instead of waking for each (sixth session: woken per
    # line, it cost about 4 % of the machine at 1,800 PROLOGs a second).
    log = CountingLogFile(tmp_path / "server.log", max_bytes=0, backups=0, echo=False)
    read_end, write_end = os.pipe()
    log.pump(os.fdopen(read_end, "rb"))
    started = time.monotonic()
    with os.fdopen(write_end, "wb", buffering=0) as pipe:
        for number in range(400):
            pipe.write(b"line %d\n" % number)
            time.sleep(0.0005)
    elapsed = time.monotonic() - started
    log.close()
    assert (tmp_path / "server.log").read_text().splitlines() == [f"line {n}" for n in range(400)]
    # At most one write per GATHER of the writer's time, plus the first and the last.
    assert log.writes <= elapsed / GATHER + 2 < 400


def test_a_burst_copied_at_once_still_rotates_at_the_size_and_loses_no_line(tmp_path: Path) -> None:
    # The block a pump copies at once can be far larger than a small rotation size: it is
    # written in pieces of at most a quarter of that size, cut at line ends.
    log = LogFile(tmp_path / "server.log", max_bytes=1000, backups=50, echo=False)
    read_end, write_end = os.pipe()
    log.pump(os.fdopen(read_end, "rb"))
    lines = [f'127.0.0.1 "POST /ocsinventory HTTP/1.1" 200 {n}.0ms' for n in range(300)]
    with os.fdopen(write_end, "wb") as pipe:
        pipe.write("".join(line + "\n" for line in lines).encode())
    log.close()
    # Oldest first: server.log.N, ..., server.log.1, server.log.
    files = sorted(tmp_path.iterdir(), key=lambda path: -int(path.name.removeprefix("server.log")[1:] or 0))
    assert len(files) > 10
    assert all(path.stat().st_size <= 1000 + 1000 // 4 + 1 for path in files)
    assert [line for path in files for line in path.read_text().splitlines()] == lines
