"""Copying packages' fragments to a site's web server (issue 7, "redistribution").

The seeds (002, "Activate": fragments on another web server per site; 004, the
multi-server architecture) keep the info file on the central HTTPS server and put the
fragments, the bulk of the bytes, on a web server near the agents. ``sync_fragments``
copies the fragments of one activation's package, or of every activated package, to a
local directory (a mounted share, the site server's document root) or, with rsync, to
``host:path``, in the layout agents fetch: ``TARGET/<ID>/<ID>-<n>``. Then, when the site's
location is given, it runs the activation check (activation.check_locations): the info
file at the activation's info location and every fragment at the site's location must
answer with the expected bytes.

A fragment is never visible half-written at the target: a local copy writes a temporary
file beside it and renames it when complete (a full disk or a kill leaves the old file or
none); rsync does the same by itself. A fragment already there with the right size and
SHA-256 is not copied again.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ocelot.deployment.activation import activations, check_locations, find_activation, parse_location
from ocelot.deployment.errors import PackageInputError, PackageStorageError, storage_error
from ocelot.deployment.models import Activation, Package
from ocelot.deployment.storage import PackageStore, default_store

CHUNK = 1024 * 1024
# host:path (or user@host:path) as rsync and scp write it; a local path never has a colon
# before its first slash.
_REMOTE = re.compile(r"^[A-Za-z0-9._@\[\]-]+:")


class SyncError(PackageInputError):
    """A target that cannot receive the files (missing, not a directory, no rsync)."""


@dataclass
class SyncResult:
    """What was copied where, and what the check found (``failures`` empty: every file answers)."""

    target: str
    packages: list[int] = field(default_factory=list)
    copied: int = 0
    unchanged: int = 0
    bytes_copied: int = 0
    checked: bool = False
    failures: list[str] = field(default_factory=list)


def is_remote(target: str) -> bool:
    """``host:path``: copied with rsync (over ssh)."""
    return bool(_REMOTE.match(target))


def chosen_activations(package: Package | None = None, activation_id: int | None = None) -> list[Activation]:
    """The activation of ``package`` (``activation_id`` among several), or every activation."""
    if package is not None:
        return [find_activation(package, activation_id)]
    found = activations()
    if not found:
        raise SyncError("No package is activated: nothing to copy.")
    return found


def _same_file(path: Path, size: int, sha256: str) -> bool:
    try:
        if path.stat().st_size != size:
            return False
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while block := handle.read(CHUNK):
                digest.update(block)
    except OSError:
        return False
    return digest.hexdigest() == sha256


def _copy_file(source: Path, destination: Path) -> int:
    """Copy through a temporary file in the destination's directory, then rename."""
    handle, temporary = tempfile.mkstemp(
        dir=destination.parent, prefix=f".{destination.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as output, source.open("rb") as data:
            shutil.copyfileobj(data, output, CHUNK)
            output.flush()
            os.fsync(output.fileno())
        os.chmod(temporary, 0o644)  # served by a web server running as another user
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return source.stat().st_size


def _copy_locally(package: Package, target: Path, store: PackageStore, result: SyncResult) -> None:
    pid = package.package_id
    directory = target / str(pid)
    try:
        directory.mkdir(mode=0o755, exist_ok=True)
        for number, expected in enumerate(package.fragments, start=1):
            name = f"{pid}-{number}"
            if _same_file(directory / name, expected["size"], expected["sha256"]):
                result.unchanged += 1
                continue
            result.bytes_copied += _copy_file(store.package_dir(pid) / name, directory / name)
            result.copied += 1
    except OSError as exc:
        raise storage_error(f"Copying package {pid} to {target} failed", exc) from exc


def _copy_with_rsync(package: Package, target: str, store: PackageStore, result: SyncResult) -> None:
    rsync = shutil.which("rsync")
    if rsync is None:
        raise SyncError("rsync is not installed: install it, or give a local directory.")
    pid = package.package_id
    sources = [str(store.package_dir(pid) / f"{pid}-{n}") for n in range(1, len(package.fragments) + 1)]
    if not sources:
        return
    # --checksum: a fragment with the right size but other bytes is copied again. rsync
    # writes each file to a hidden temporary beside it and renames it when complete, and
    # removes the temporary when it fails (no --partial, no --inplace); --delay-updates
    # would leave its .~tmp~ directory behind on a full disk.
    command = [
        rsync,
        "--times",
        "--checksum",
        "--mkpath",
        "--chmod=D755,F644",
        "--itemize-changes",
        "--",
        *sources,
        f"{target.rstrip('/')}/{pid}/",
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        reason = (completed.stderr.strip().splitlines() or [f"exit status {completed.returncode}"])[0]
        raise PackageStorageError(f"rsync of package {pid} to {target} failed: {reason}")
    changed = [line for line in completed.stdout.splitlines() if line.startswith(">f")]
    result.copied += len(changed)
    result.unchanged += len(sources) - len(changed)
    changed_names = {line.split(" ", 1)[1].strip() for line in changed}
    result.bytes_copied += sum(
        expected["size"]
        for number, expected in enumerate(package.fragments, start=1)
        if f"{pid}-{number}" in changed_names
    )


def sync_fragments(
    target: str,
    chosen: list[Activation],
    *,
    location: str | None = None,
    rsync: bool = False,
    store: PackageStore | None = None,
) -> SyncResult:
    """Copy the fragments of the chosen activations' packages to ``target``, then check them.

    ``target`` is a local directory that exists, or ``host:path`` (rsync). ``rsync`` uses
    rsync for a local directory too. ``location`` is where the site serves ``target``
    (``host[:port]/path``, as ``--fragment-location``); when given, every package's files
    are fetched as agents will: its info file at its activation's info location, its
    fragments at ``location``.
    """
    store = store or default_store()
    packages: dict[int, Activation] = {}
    for activation in chosen:
        packages.setdefault(activation.package.package_id, activation)
    # Parsed before anything is copied: a bad location writes nothing.
    sites = {
        pid: parse_location(location, scheme=activation.package.protocol.lower())
        for pid, activation in packages.items()
        if location is not None
    }
    remote = is_remote(target)
    if not remote:
        directory = Path(target)
        if not directory.exists():
            raise SyncError(f"{target}: no such directory (create it first).")
        if not directory.is_dir():
            raise SyncError(f"{target}: not a directory.")
        if not os.access(directory, os.W_OK | os.X_OK):
            raise SyncError(f"{target}: not writable.")
    result = SyncResult(target=target)
    for activation in packages.values():
        package = activation.package
        if remote or rsync:
            _copy_with_rsync(package, target, store, result)
        else:
            _copy_locally(package, Path(target), store, result)
        result.packages.append(package.package_id)
    if location is not None:
        for pid, activation in packages.items():
            info = parse_location(activation.info_location, scheme="https")
            result.failures += check_locations(activation.package, info, sites[pid], store=store)
        result.checked = True
    return result
