"""The server's log file: one writer, rotated by size (issue 7, docs/operations.md).

Every worker process of both listeners logs to its standard output and error (Django's
LOGGING, granian's or gunicorn's access log). Several processes rotating one file each on
their own would lose lines or clobber each other's rotation, so ``ocelot server`` reads
its children's output through pipes and is the only writer of
``$OCELOT_LOG_DIR/server.log`` (default ``$OCELOT_HOME/log``): rotated at
``OCELOT_LOG_MAX_BYTES`` with ``OCELOT_LOG_BACKUPS`` old files kept. With
``OCELOT_LOG_BACKUPS=0`` the file is never rotated by Ocelot: logrotate's
``copytruncate`` (packaging/logrotate/ocelot) works, the file being opened for appending.

Lines are also copied to ``ocelot server``'s own output, except under systemd with a log
file (``JOURNAL_STREAM`` set): the journal would hold every line twice.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
import time
from pathlib import Path
from typing import IO

# What the pump reads at once (LogFile.pump): a pipe's whole default capacity.
BLOCK = 65536
# How long the pump lets lines gather once it has emptied its pipe. Woken for
# every access line, the pump cost about 4 % of the machine at 1,800 PROLOGs a second
# (perf, sixth session); a pause of 20 ms bounds it to 50 wake-ups a second per pipe while
# the pipe (64 KiB, some 700 access lines) never fills at that rate.
GATHER = 0.02


class LogFile:
    """A thread-safe, size-rotated file of raw lines."""

    def __init__(self, path: Path, max_bytes: int, backups: int, echo: bool) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.echo = echo
        rotate = backups > 0 and max_bytes > 0
        self._handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=max_bytes if rotate else 0, backupCount=backups if rotate else 0, encoding="utf-8"
        )
        self._handler.setFormatter(logging.Formatter("%(message)s"))
        # The longest run of lines written at once (write_lines): a file passes its size by
        # at most that much, or by one longer line.
        self._piece = max(1, max_bytes // 4) if rotate else sys.maxsize
        self._echo_lock = threading.Lock()
        self._pumps: list[threading.Thread] = []

    def write_line(self, line: str) -> None:
        # handle(), not emit(): it holds the handler's lock, and the pumps are threads.
        self._handler.handle(logging.makeLogRecord({"msg": line, "levelno": logging.INFO}))
        if self.echo:
            with self._echo_lock:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()

    def write_lines(self, text: str) -> None:
        """Whole lines (``\n`` between them) in as few writes as the rotation allows: at
        most a quarter of the file's size at once, cut at line ends."""
        while len(text) > self._piece:
            cut = text.rfind("\n", 0, self._piece)
            if cut < 0:
                cut = text.find("\n", self._piece)  # a line longer than a piece: whole
                if cut < 0:
                    break
            self.write_line(text[:cut])
            text = text[cut + 1 :]
        self.write_line(text)

    def pump(self, pipe: IO[bytes]) -> threading.Thread:
        """Copy ``pipe`` into the file until it closes (a child exited), whole lines only.

        The complete lines that are there at once are written together (:meth:`write_lines`:
        one write and one size check per quarter of the rotation size, or per block of at
        most ``BLOCK`` bytes), then the pump waits ``GATHER`` seconds before reading again,
        so that a busy server's lines are copied many at a time; a line reaches the file at
        most that much later. Line by line, the copy cost about 0.03-0.045 ms of CPU per
        access line, a sixth of what serving a 1 MiB fragment costs (bench/deployment.py)
        and 4 % of a PROLOG."""

        def copy() -> None:
            rest = b""
            with pipe:
                while chunk := os.read(pipe.fileno(), BLOCK):
                    rest += chunk
                    cut = rest.rfind(b"\n")
                    if cut < 0 and len(rest) < BLOCK:
                        continue  # half a line: wait for its end
                    block, rest = (rest, b"") if cut < 0 else (rest[:cut], rest[cut + 1 :])
                    self.write_lines(block.decode("utf-8", errors="replace").replace("\r\n", "\n"))
                    if len(chunk) < BLOCK:
                        time.sleep(GATHER)  # the pipe is empty: let the next lines gather
                if rest:
                    self.write_line(rest.decode("utf-8", errors="replace").rstrip("\r\n"))

        thread = threading.Thread(target=copy, name="ocelot-log-pump", daemon=True)
        thread.start()
        self._pumps.append(thread)
        return thread

    def close(self, timeout: float = 5.0) -> None:
        """After the children exited: let the pumps copy their last lines, then close."""
        for thread in self._pumps:
            thread.join(timeout)
        self._handler.close()


def open_server_log(log_dir: Path | None, max_bytes: int, backups: int) -> LogFile | None:
    """The server's log file, or None when ``OCELOT_LOG_DIR`` is ``-`` (output only)."""
    if log_dir is None:
        return None
    echo = not os.environ.get("JOURNAL_STREAM")
    return LogFile(log_dir / "server.log", max_bytes, backups, echo)
