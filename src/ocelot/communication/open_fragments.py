"""Package files held open so that granian can send them from Rust without following a link.

granian's RSGI file responses (``response_file``, ``response_file_range``) take a path and
open it later, in Rust, after the handler has returned. Handed the fragment's own path,
that open would follow a symbolic link swapped in after our check (security.md S15: a link
planted in the tree is never followed). So the check and the open are ours: the file is
opened with ``O_NOFOLLOW`` and checked with ``fstat`` (a regular file), and Rust is handed
``/proc/self/fd/<n>``, which names the open file itself, whatever happens to the path.

Why the descriptor ``n`` cannot name anything else when Rust opens it: descriptors handed
out are *slots* that this cache never closes. A slot only ever holds a regular file of the
download tree that passed the check, or ``/dev/null`` once its file went away; a new file
goes into a slot with ``dup2``, which replaces what the slot held in one step, and a slot
is given to a new file only after it was the least recently used of ``capacity`` slots
and nobody was handed it for ``REUSE_SECONDS`` (or its file was replaced or deleted). So a
late open in Rust gets, at worst, another checked fragment or an empty file: never a
database, a key, or a link's target. And since Rust opens the path as soon as the handler
returns, well within ``REUSE_SECONDS``, an evicted slot is not one a response is still
waiting to open: while every slot is that recent the cache grows past ``capacity`` instead
(64 downloaders of a many-fragment package must not get each other's fragments). (A
descriptor that was closed and reused by the process, e.g. for SQLite, could have been
any file: that is what the slots avoid.)

Each request still checks the path: ``lstat`` (which does not follow a final link) must
show the same regular file (device and inode) as the slot, otherwise the path is opened
again. Intermediate directories are followed as before (``O_NOFOLLOW`` concerns the last
component only); the names are of the fixed shape ``<ID>/<ID>-<n>`` (downloads.py).

Slots whose file was deleted or replaced, or that nobody asked for in ``IDLE_SECONDS``,
are emptied by :meth:`OpenFragments.sweep` (at most every ``SWEEP_SECONDS``, from the
request path and a timer), so a deleted package's disk space comes back within minutes.
"""

from __future__ import annotations

import os
import stat
import time
from collections import OrderedDict
from dataclasses import dataclass

PROC_FD = "/proc/self/fd"
CAPACITY = 128
REUSE_SECONDS = 30.0
IDLE_SECONDS = 300.0
SWEEP_SECONDS = 60.0


@dataclass
class OpenFragment:
    """A checked package file: the path Rust opens (``/proc/self/fd/<slot>``), its size
    and modification time (epoch seconds)."""

    path: str
    size: int
    modified: int


@dataclass
class _Slot:
    fd: int
    device: int
    inode: int
    used_at: float


def descriptors_reachable() -> bool:
    """Whether ``/proc/self/fd/<n>`` reopens an open file here (Linux with /proc mounted)."""
    return os.path.isdir(PROC_FD) and hasattr(os, "O_NOFOLLOW")


class OpenFragments:
    """At most ``capacity`` package files held open, least recently used replaced first.

    Used from one thread (the worker's event loop), so it holds no lock.
    """

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = max(1, capacity)
        self._slots: OrderedDict[str, _Slot] = OrderedDict()
        self._free: list[int] = []
        self._null = -1
        self._swept_at = time.monotonic()

    def open(self, path: str) -> OpenFragment | None:
        """The checked file at ``path``, or None if it is missing, a link or not a regular file."""
        now = time.monotonic()
        if now - self._swept_at >= SWEEP_SECONDS:
            self.sweep(now)
        try:
            seen = os.lstat(path)
        except OSError:
            return None
        if not stat.S_ISREG(seen.st_mode):
            return None
        slot = self._slots.get(path)
        if slot is not None and (slot.device, slot.inode) == (seen.st_dev, seen.st_ino):
            slot.used_at = now
            self._slots.move_to_end(path)
            return OpenFragment(f"{PROC_FD}/{slot.fd}", seen.st_size, int(seen.st_mtime))
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return None
            number = self._place(path, fd, now)
            self._slots[path] = _Slot(number, info.st_dev, info.st_ino, now)
            if number == fd:
                fd = -1  # the descriptor is the slot now: kept open
            return OpenFragment(f"{PROC_FD}/{number}", info.st_size, int(info.st_mtime))
        finally:
            if fd >= 0:
                os.close(fd)

    def _place(self, path: str, fd: int, now: float) -> int:
        """The slot number ``fd``'s file goes into (``fd`` itself while there is room)."""
        slot = self._slots.pop(path, None)  # the same name, another file: its slot
        if slot is not None:
            number = slot.fd
        elif self._free:
            number = self._free.pop()
        elif len(self._slots) < self.capacity:
            return fd
        elif now - next(iter(self._slots.values())).used_at < REUSE_SECONDS:
            return fd  # the least recently used slot may still be waiting for Rust's open
        else:
            _, oldest = self._slots.popitem(last=False)
            number = oldest.fd
        os.dup2(fd, number, inheritable=False)
        return number

    def sweep(self, now: float | None = None) -> None:
        """Empty the slots whose file was deleted or replaced, or that sat idle too long."""
        now = time.monotonic() if now is None else now
        self._swept_at = now
        for path, slot in list(self._slots.items()):
            try:
                seen = os.lstat(path)
                current = (seen.st_dev, seen.st_ino) == (slot.device, slot.inode)
            except OSError:
                current = False
            if current and now - slot.used_at < IDLE_SECONDS:
                continue
            if self._null < 0:
                self._null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
            os.dup2(self._null, slot.fd, inheritable=False)
            del self._slots[path]
            self._free.append(slot.fd)

    def close(self) -> None:
        """Close every slot: when nothing will be sent any more (the worker stops)."""
        for slot in self._slots.values():
            os.close(slot.fd)
        for number in self._free:
            os.close(number)
        if self._null >= 0:
            os.close(self._null)
        self._slots.clear()
        self._free.clear()
        self._null = -1

    def __len__(self) -> int:
        return len(self._slots)
