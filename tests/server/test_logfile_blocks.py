"""``LogFile.pump(..., blocks=True)``: the fragment listener's access lines copied into
server.log a block at a time (server/logfiles.py), whole, in order, none lost."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from ocelot.server.logfiles import BLOCK, LogFile


def test_lines_cut_anywhere_by_the_writes_arrive_whole_and_in_order(tmp_path: Path) -> None:
    log = LogFile(tmp_path / "server.log", max_bytes=0, backups=0, echo=False)
    read_end, write_end = os.pipe()
    log.pump(os.fdopen(read_end, "rb"), blocks=True)
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
    log.pump(os.fdopen(read_end, "rb"), blocks=True)
    with os.fdopen(write_end, "wb") as pipe:
        pipe.write(b"x" * (3 * BLOCK) + b"\nend\n")
    log.close()
    written = (tmp_path / "server.log").read_text().splitlines()
    assert "".join(written[:-1]) == "x" * (3 * BLOCK) and written[-1] == "end"
