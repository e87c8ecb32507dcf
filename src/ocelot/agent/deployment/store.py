"""The engine's files under ``<vardir>/download/`` (protocol.md §9.1, with Ocelot's additions).

* ``config``: the last CONF param; ``history``: ids of done packages, one per line;
  ``lock``: held (flock) by the one process working on downloads;
* ``results/<ID>``: a result not yet accepted by the server (the code, then ``history``
  when the package reached ``done``, ``unclean`` when its directory could not be removed);
  re-sent at every run until the server answers;
* ``<ID>/since`` (epoch seconds, starts the TIMEOUT clock), ``<ID>/pack`` (the PACK param,
  so a run without a PROLOG can resume), ``<ID>/info`` (the verified info file),
  ``<ID>/failures`` (the fragment whose download failed, how many times in a row and
  since when: ERR_DOWNLOAD_PACK), ``<ID>/<ID>-<n>`` (fragments, each renamed into place
  only once complete and verified), ``<ID>/started`` (an install began: after a crash
  the package reports ERR_INTERRUPTED and never runs twice), ``<ID>/tmp/`` (the extracted
  archive, the command's directory).

Every file is written atomically (temporary file, fsync, rename: state.write_atomically).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from ocelot.agent.deployment.announcement import DownloadConf, PackOrder, read_conf_file, read_pack_file
from ocelot.agent.state import write_atomically


class PackageDir:
    """One package's directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.package_id = path.name

    @property
    def info_path(self) -> Path:
        return self.path / "info"

    @property
    def work_dir(self) -> Path:
        return self.path / "tmp"

    @property
    def started_path(self) -> Path:
        return self.path / "started"

    def fragment_path(self, number: int) -> Path:
        return self.path / f"{self.package_id}-{number}"

    def since(self) -> float | None:
        try:
            return float((self.path / "since").read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return None

    def pack(self) -> PackOrder | None:
        try:
            return read_pack_file((self.path / "pack").read_bytes())
        except OSError:
            return None

    def write_pack(self, pack: PackOrder) -> None:
        write_atomically(self.path / "pack", pack.to_bytes())

    def info_bytes(self) -> bytes | None:
        try:
            return self.info_path.read_bytes()
        except OSError:
            return None

    @property
    def failures_path(self) -> Path:
        return self.path / "failures"

    def record_fetch_failure(self, number: int, now: float) -> tuple[int, float]:
        """One more failed download of fragment ``number``: (failures in a row, time of the first)."""
        count, first = 0, now
        try:
            fields = self.failures_path.read_text(encoding="ascii").split()
            if len(fields) == 3 and int(fields[0]) == number:
                count, first = int(fields[1]), float(fields[2])
        except (OSError, ValueError):
            pass
        count += 1
        write_atomically(self.failures_path, f"{number} {count} {first:.0f}\n".encode("ascii"))
        return count, first

    def clear_fetch_failures(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.failures_path.unlink()

    def next_fragment(self, count: int) -> int | None:
        """The first fragment number not yet on disk, or None when all are there."""
        for number in range(1, count + 1):
            if not self.fragment_path(number).is_file():
                return number
        return None

    def fragments(self, count: int) -> list[Path]:
        return [self.fragment_path(number) for number in range(1, count + 1)]


class DownloadStore:
    """``<vardir>/download``."""

    def __init__(self, vardir: Path) -> None:
        self.root = vardir / "download"

    def ensure(self) -> None:
        (self.root / "results").mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------ config

    def write_conf(self, conf: DownloadConf) -> None:
        write_atomically(self.root / "config", conf.to_bytes())

    def conf(self) -> DownloadConf | None:
        try:
            return read_conf_file((self.root / "config").read_bytes())
        except OSError:
            return None

    # ------------------------------------------------------------ lock

    @contextlib.contextmanager
    def lock(self) -> Iterator[bool]:
        """Yields True when this process holds the lock (another run works otherwise)."""
        self.ensure()
        handle = open(self.root / "lock", "a+b")  # noqa: SIM115 (held across the yield)
        try:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                yield False
                return
            yield True
        finally:
            handle.close()

    # ------------------------------------------------------------ history

    @property
    def history_path(self) -> Path:
        return self.root / "history"

    def history(self) -> list[str]:
        try:
            text = self.history_path.read_text(encoding="ascii", errors="replace")
        except OSError:
            return []
        return [line.strip() for line in text.splitlines() if line.strip().isdigit()]

    def add_to_history(self, package_id: str) -> None:
        kept = self.history()
        if package_id not in kept:
            write_atomically(
                self.history_path, "".join(f"{i}\n" for i in [*kept, package_id]).encode("ascii")
            )

    # ------------------------------------------------------------ pending results

    def record_result(self, package_id: str, code: str, *, done: bool, unclean: bool = False) -> None:
        """Keep a result until the server accepts it; ``done`` packages also enter the history.

        ``unclean``: the package's directory could not be removed; ERR_CLEAN follows the
        result once the server has it.
        """
        text = f"{code}\n" + ("history\n" if done else "") + ("unclean\n" if unclean else "")
        write_atomically(self.root / "results" / package_id, text.encode("ascii"))

    def is_unclean(self, package_id: str) -> bool:
        try:
            lines = (self.root / "results" / package_id).read_text(encoding="ascii").split()
        except (OSError, UnicodeDecodeError):
            return False
        return "unclean" in lines[1:]

    def pending_results(self) -> list[tuple[str, str, bool]]:
        """(package id, code, done) of results not yet accepted, oldest id first."""
        found = []
        try:
            names = sorted(os.listdir(self.root / "results"))
        except OSError:
            return []
        for name in names:
            if not name.isdigit():
                continue
            try:
                lines = (self.root / "results" / name).read_text(encoding="ascii").split()
            except (OSError, UnicodeDecodeError):
                continue
            if lines:
                found.append((name, lines[0], "history" in lines[1:]))
        return found

    def has_pending_result(self, package_id: str) -> bool:
        return (self.root / "results" / package_id).is_file()

    def forget_result(self, package_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.root / "results" / package_id).unlink()

    # ------------------------------------------------------------ package directories

    def package(self, package_id: str) -> PackageDir:
        return PackageDir(self.root / package_id)

    def packages(self) -> list[PackageDir]:
        """Package directories (named only by digits, as the Unix agent requires, §8.1)."""
        try:
            names = sorted(os.listdir(self.root), key=lambda n: (len(n), n))
        except OSError:
            return []
        return [PackageDir(self.root / n) for n in names if n.isdigit() and (self.root / n).is_dir()]

    def create_package(self, pack: PackOrder, now: float) -> PackageDir:
        package = self.package(pack.package_id)
        package.path.mkdir(parents=True, exist_ok=True)
        if package.since() is None:
            write_atomically(package.path / "since", f"{int(now)}\n".encode("ascii"))
        package.write_pack(pack)
        return package

    def remove_package(self, package: PackageDir) -> bool:
        """Delete a package directory; False when it could not be (ERR_CLEAN).

        It is first renamed out of the digit-named space, so a crash half-way through the
        deletion leaves nothing the engine would take for a package.
        """
        if not package.path.exists():
            return True
        trash = self.root / f".removing-{package.package_id}-{os.getpid()}"
        try:
            os.replace(package.path, trash)
        except OSError:
            trash = package.path
        shutil.rmtree(trash, ignore_errors=True)
        return not trash.exists()

    def sweep(self) -> None:
        """Finish deletions a crash interrupted."""
        with contextlib.suppress(OSError):
            for name in os.listdir(self.root):
                if name.startswith(".removing-"):
                    shutil.rmtree(self.root / name, ignore_errors=True)


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged writer may still use on ``path``'s file system."""
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize
