"""Counters that add up across worker processes: one memory-mapped file per process.

``ocelot server`` runs several worker processes per listener (design.md §7); a scrape lands
on one of them and must report the whole server. As prometheus_client's multiprocess mode
does, each process keeps its values in ``<dir>/<pid>.db``, a memory-mapped file, and a
scrape sums every file of the directory. An increment is a dictionary lookup and an
8-byte write into the mapping (no system call, no lock between processes), so the agent
endpoint pays about a microsecond for it. Files of workers that exited stay: their counts
still belong to the totals (a respawned worker starts a new file).

``ocelot server`` gives each run its own directory (``OCELOT_METRICS_DIR``, under
``$OCELOT_HOME/var/metrics/``), so a restart starts the counters from zero as Prometheus
expects, and two servers sharing a home each report their own.

File layout: a 4-byte little-endian "bytes used", 4 bytes padding, then entries of a
4-byte key length, the UTF-8 key padded to a multiple of 8 from the entry start, and an
8-byte float. An entry is written whole before "used" covers it, so a reader never sees
half of one.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import shutil
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

INITIAL_SIZE = 64 * 1024
_DOUBLE = struct.Struct("<d")
ENVIRONMENT = "OCELOT_METRICS_DIR"


def _padded(key: bytes) -> int:
    """Length of the key field so that the value lands on an 8-byte boundary."""
    return (4 + len(key) + 7) // 8 * 8 - 4


def read_entries(data: bytes) -> Iterator[tuple[str, float]]:
    """Every (key, value) of one file's content."""
    if len(data) < 8:
        return
    used = struct.unpack_from("<I", data, 0)[0]
    position = 8
    while position + 4 <= used:
        length = struct.unpack_from("<I", data, position)[0]
        key = data[position + 4 : position + 4 + length].decode("utf-8")
        position += 4 + _padded(key.encode("utf-8"))
        yield key, struct.unpack_from("<d", data, position)[0]
        position += 8


class ProcessValues:
    """This process's file: ``add(key, amount)`` and ``set(key, value)``."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.directory = path.parent
        self._lock = threading.Lock()
        self._file = path.open("a+b")
        size = os.fstat(self._file.fileno()).st_size
        if size < 8:
            self._file.truncate(INITIAL_SIZE)
            size = INITIAL_SIZE
        self._map = mmap.mmap(self._file.fileno(), size)
        self._used = struct.unpack_from("<I", self._map, 0)[0] or 8
        struct.pack_into("<I", self._map, 0, self._used)
        self._positions: dict[str, int] = {}
        position = 8
        for key, _value in read_entries(self._map[: self._used]):
            position += 4 + _padded(key.encode("utf-8"))
            self._positions[key] = position
            position += 8

    def _position(self, key: str) -> int:
        position = self._positions.get(key)
        if position is not None:
            return position
        encoded = key.encode("utf-8")
        entry = 4 + _padded(encoded) + 8
        while self._used + entry > len(self._map):
            capacity = len(self._map) * 2
            self._map.close()
            self._file.truncate(capacity)
            self._map = mmap.mmap(self._file.fileno(), capacity)
        start = self._used
        struct.pack_into("<I", self._map, start, len(encoded))
        self._map[start + 4 : start + 4 + len(encoded)] = encoded
        position = start + 4 + _padded(encoded)
        struct.pack_into("<d", self._map, position, 0.0)
        self._used += entry
        struct.pack_into("<I", self._map, 0, self._used)
        self._positions[key] = position
        return position

    def add(self, key: str, amount: float) -> None:
        with self._lock:
            position = self._position(key)
            _DOUBLE.pack_into(self._map, position, _DOUBLE.unpack_from(self._map, position)[0] + amount)

    def close(self) -> None:
        with contextlib.suppress(ValueError, OSError):
            self._map.close()
        self._file.close()


def merged(directory: Path) -> dict[str, float]:
    """The sum of every process file in ``directory``, key by key."""
    totals: dict[str, float] = {}
    if not directory.is_dir():
        return totals
    for path in sorted(directory.glob("*.db")):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        for key, value in read_entries(data):
            totals[key] = totals.get(key, 0.0) + value
    return totals


_current: ProcessValues | None = None
_open_lock = threading.Lock()


def _forget_after_fork() -> None:
    # A forked child (gunicorn's workers after --preload) writes a file of its own.
    global _current
    _current = None


os.register_at_fork(after_in_child=_forget_after_fork)


def process_values(directory: Path) -> ProcessValues:
    """This process's file in ``directory`` (a forked child opens its own).

    The fast path is an identity test: callers keep one ``Path`` object, and comparing
    paths by value cost more than the increment itself (a few microseconds).
    """
    global _current
    current = _current
    if current is not None and current.directory is directory:
        return current
    with _open_lock:
        if _current is None or _current.directory != directory:
            _current = ProcessValues(directory / f"{os.getpid()}.db")
        _current.directory = directory
        return _current


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_run_directory(base: Path) -> Path:
    """A fresh directory for this ``ocelot server`` run; those of dead runs are removed."""
    base.mkdir(parents=True, exist_ok=True)
    for old in base.iterdir():
        if old.is_dir() and old.name.isdigit() and not _alive(int(old.name)):
            shutil.rmtree(old, ignore_errors=True)
    directory = base / str(os.getpid())
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    return directory
