"""Leftovers in ``packages/staging/``: what a build or an upload cut short leaves behind.

A build writes its fragments and info file in ``staging/<ID>/`` before it publishes them
with one rename, and the console and the API stream uploaded archives into
``staging/upload-*`` files (deployment.uploads). Both remove their files when they fail,
but a process that is killed (SIGKILL, a crash, a power cut) cannot: security.md T35 asks
that such a leftover be cleaned at start-up.

Whoever writes in ``staging/`` holds an exclusive ``flock`` on what it writes for as long
as it writes (:func:`hold`); the kernel drops the lock when the process dies, however it
dies. :func:`sweep`, run when ``ocelot server`` starts, removes every entry it can lock,
and leaves alone those in use by a build or upload of another process (``ocelot package
build`` may run beside the server) and those younger than a minute (an entry between its
creation and its lock).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
import time
from pathlib import Path

from ocelot.deployment.storage import PackageStore

# An entry this recent may be between its creation and its writer's lock: left alone.
GRACE_SECONDS = 60.0


def hold(path: Path) -> int:
    """Lock ``path`` (a staging directory or file) for its writer; returns the descriptor
    to close when the writing is over (closing releases the lock)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def lock_descriptor(fd: int) -> None:
    """Lock an already open staging file (an upload's temporary file)."""
    fcntl.flock(fd, fcntl.LOCK_EX)


def sweep(store: PackageStore, *, now: float | None = None) -> list[str]:
    """Remove the staging entries nobody writes any more; returns their names."""
    now = time.time() if now is None else now
    removed: list[str] = []
    try:
        entries = list(os.scandir(store.staging_dir))
    except OSError:
        return removed  # no staging directory yet
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if now - info.st_mtime < GRACE_SECONDS:
            continue
        if stat.S_ISLNK(info.st_mode):
            # Nothing here is ever a link: one planted here is removed, never followed.
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(entry.name)
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live build or upload holds it
            with contextlib.suppress(OSError):
                if stat.S_ISDIR(info.st_mode):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
                removed.append(entry.name)
        finally:
            os.close(fd)
    return sorted(removed)
