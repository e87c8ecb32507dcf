"""Building a package: check, stream, split, sign, publish atomically, record (issue 4 "Build", "Files").

Nothing is written before the request and the archive are checked (:mod:`archive_check`).
Then the fragments and the ``info`` file go to ``staging/<ID>/``; the directory is renamed
into ``download/<ID>/`` inside the transaction that records the package. On any failure
(a refused archive, a full disk, Ctrl-C, a database error) the staging directory, and the
published one if the rename already happened, are removed: no package and no partial file
are left (security.md T35).
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from django.db import IntegrityError, transaction
from django.utils import timezone

from ocelot.deployment import signing
from ocelot.deployment import staging as staging_files
from ocelot.deployment.archive_check import TAR_GZ, check_archive, detect_format, launch_file
from ocelot.deployment.errors import ArchiveError, PackageInputError, storage_error
from ocelot.deployment.fragments import ArchiveDigests, fragment_sizes, write_fragments
from ocelot.deployment.models import Package
from ocelot.deployment.storage import PackageStore, default_store
from ocelot.protocol.info_file import (
    ACTIONS,
    PROTOCOLS,
    FragmentDigest,
    InfoFile,
    attach_signature,
    escape_attribute,
    unsigned_info_file,
)

OPERATING_SYSTEMS = tuple(choice.value for choice in Package.OperatingSystem)
MAX_NAME = 255
MAX_COMMAND = 1024
MAX_TEXT = 4096
MAX_COUNTDOWN = 86400
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
INFO_FILE = "info"


@dataclass(frozen=True)
class PackageRequest:
    """What an administrator asks for; checked by :func:`check_request`."""

    name: str
    os: str
    action: str
    command: str = ""
    path: str = ""
    priority: int = 5
    protocol: str = "HTTP"
    description: str = ""
    notify_user: bool = False
    notify_text: str = ""
    notify_countdown: int | None = None
    notify_can_abort: bool = False
    notify_can_delay: bool = False
    need_done_action: bool = False
    need_done_action_text: str = ""
    fragment_count: int | None = None
    fragment_size: int | None = None
    archive_name: str = ""

    @classmethod
    def from_options(
        cls,
        *,
        notify_text: str | None = None,
        notify_countdown: int | None = None,
        notify_can_abort: bool = False,
        notify_can_delay: bool = False,
        done_action_text: str | None = None,
        **fields: Any,
    ) -> PackageRequest:
        """A request from optional notification options, as the API and the command line
        take them: any of them asks for the user to be notified, and a done-action text
        asks for the done action."""
        notify = notify_text is not None or notify_countdown is not None
        return cls(
            notify_user=notify or notify_can_abort or notify_can_delay,
            notify_text=notify_text or "",
            notify_countdown=notify_countdown,
            notify_can_abort=notify_can_abort,
            notify_can_delay=notify_can_delay,
            need_done_action=done_action_text is not None,
            need_done_action_text=done_action_text or "",
            **fields,
        )

    @property
    def argument(self) -> str:
        """What goes into the info file's PATH, NAME or COMMAND."""
        return self.path if self.action == "STORE" else self.command


def _text(label: str, value: str, maximum: int, *, lines: bool = False) -> None:
    if len(value) > maximum:
        raise PackageInputError(f"The {label} is longer than {maximum} characters.")
    allowed = value.replace("\n", "").replace("\t", "") if lines else value
    if _CONTROL.search(allowed):
        raise PackageInputError(f"The {label} holds a control character.")
    try:
        escape_attribute(value)
    except ValueError as exc:
        raise PackageInputError(f"The {label} holds a character the info file cannot carry.") from exc


def check_request(request: PackageRequest, *, has_archive: bool) -> None:
    """Every rule on the options alone (no database, no file); PackageInputError otherwise."""
    if not request.name.strip():
        raise PackageInputError("A package needs a name.")
    _text("name", request.name, MAX_NAME)
    if request.os not in OPERATING_SYSTEMS:
        raise PackageInputError(f"The operating system is one of {', '.join(OPERATING_SYSTEMS)}.")
    if request.protocol not in PROTOCOLS:
        raise PackageInputError("The fragment protocol is HTTP or HTTPS.")
    if isinstance(request.priority, bool) or not 0 <= request.priority <= 10:
        raise PackageInputError("The priority is 0 (first) to 10 (last).")
    if request.action not in ACTIONS:
        raise PackageInputError("The action is LAUNCH, EXECUTE or STORE.")
    _text("command", request.command, MAX_COMMAND)
    _text("path", request.path, MAX_COMMAND)
    _text("notification text", request.notify_text, MAX_TEXT, lines=True)
    _text("done action text", request.need_done_action_text, MAX_TEXT, lines=True)
    _text("description", request.description, MAX_TEXT, lines=True)
    if request.action in ("LAUNCH", "EXECUTE") and not request.command.strip():
        raise PackageInputError(f"{request.action} needs a command.")
    if request.action == "STORE":
        if not request.path.strip():
            raise PackageInputError("STORE needs the path to store the files in.")
        if ".." in re.split(r"[/\\]", request.path):
            raise PackageInputError("The STORE path may not contain '..'.")
    if request.action in ("LAUNCH", "STORE") and not has_archive:
        raise PackageInputError(f"{request.action} needs an archive (zip or tar.gz).")
    if not has_archive and (request.fragment_count is not None or request.fragment_size is not None):
        raise PackageInputError("Fragments need an archive.")
    if request.notify_countdown is not None and not 0 <= request.notify_countdown <= MAX_COUNTDOWN:
        raise PackageInputError(f"The notification countdown is 0 to {MAX_COUNTDOWN} seconds.")


def _archive_size(archive: BinaryIO) -> int:
    archive.seek(0, os.SEEK_END)
    size = archive.tell()
    archive.seek(0)
    return size


def _reserve(store: PackageStore, now: datetime.datetime) -> tuple[int, Path]:
    """A free ID (the build time in seconds, moved forward while taken) and its staging directory."""
    candidate = int(now.timestamp())
    while True:
        taken = Package.objects.filter(package_id=candidate).exists() or store.package_dir(candidate).exists()
        if not taken:
            staging = store.staging_dir / str(candidate)
            try:
                staging.mkdir(mode=0o755)
            except FileExistsError:
                pass  # another build reserved it a moment ago
            else:
                return candidate, staging
        candidate += 1


def _signing_key(store: PackageStore) -> signing.Ed25519PrivateKey:
    # Created at install (ocelot init / ocelot server); created here too if a home predates it.
    signing.ensure_signing_key(store.pki_dir, store.public_dir)
    return signing.load_signing_key(store.pki_dir)


def build_package(
    request: PackageRequest,
    archive: BinaryIO | None = None,
    *,
    store: PackageStore | None = None,
    progress: Callable[[int, int], None] | None = None,
    now: datetime.datetime | None = None,
) -> Package:
    """Check, write, sign and publish a package; returns the recorded Package.

    ``archive`` is a seekable binary file (an uploaded temporary file or a file on disk);
    ``progress(done, total)`` follows the copy. Raises PackageInputError (ArchiveError for
    the archive) or PackageStorageError; in every case nothing is left behind.
    """
    store = store or default_store()
    now = now or timezone.now()
    check_request(request, has_archive=archive is not None)
    windows = request.os == "windows"
    sizes: list[int] = []
    archive_format = ""
    if archive is not None:
        launch = launch_file(request.command, windows=windows) if request.action == "LAUNCH" else None
        archive_format = detect_format(archive)
        if windows and archive_format == TAR_GZ:
            raise ArchiveError("Windows agents only unzip: a Windows package needs a zip archive.")
        check_archive(archive, launch=launch, windows=windows)
        sizes = fragment_sizes(
            _archive_size(archive), count=request.fragment_count, fragment_size=request.fragment_size
        )
    if Package.objects.filter(name=request.name).exists():
        raise PackageInputError(f"A package named {request.name!r} already exists.")

    try:
        store.staging_dir.mkdir(parents=True, exist_ok=True)
        store.download_dir.mkdir(parents=True, exist_ok=True)
        key = _signing_key(store)
    except OSError as exc:
        raise storage_error("The package directory cannot be prepared", exc) from exc
    package_id, staging = _reserve(store, now)
    published: Path | None = None
    held: int | None = None
    try:
        # Locked while written: a server starting meanwhile leaves it alone (staging.sweep).
        held = staging_files.hold(staging)
        digests = ArchiveDigests(0, "", "", ())
        if archive is not None:
            total = sum(sizes)
            digests = write_fragments(
                archive,
                staging,
                package_id,
                sizes,
                (lambda done: progress(done, total)) if progress is not None else None,
            )
        info = InfoFile(
            package_id=package_id,
            priority=request.priority,
            action=request.action,
            md5=digests.md5,
            protocol=request.protocol,
            fragment_count=len(digests.fragments),
            argument=request.argument,
            notify_user=request.notify_user,
            notify_text=request.notify_text,
            notify_countdown=request.notify_countdown,
            notify_can_abort=request.notify_can_abort,
            notify_can_delay=request.notify_can_delay,
            need_done_action=request.need_done_action,
            need_done_action_text=request.need_done_action_text,
            size=digests.size,
            sha256=digests.sha256,
            fragments=digests.fragments,
            key_id=signing.key_id(key.public_key()),
        )
        unsigned = unsigned_info_file(info)
        try:
            (staging / INFO_FILE).write_bytes(attach_signature(unsigned, key.sign(unsigned)))
        except OSError as exc:
            raise storage_error("The info file could not be written", exc) from exc
        with transaction.atomic():
            package = Package.objects.create(
                package_id=package_id,
                name=request.name,
                description=request.description,
                os=request.os,
                protocol=request.protocol,
                priority=request.priority,
                action=request.action,
                command=request.command if request.action != "STORE" else "",
                path=request.path if request.action == "STORE" else "",
                notify_user=request.notify_user,
                notify_text=request.notify_text,
                notify_countdown=request.notify_countdown,
                notify_can_abort=request.notify_can_abort,
                notify_can_delay=request.notify_can_delay,
                need_done_action=request.need_done_action,
                need_done_action_text=request.need_done_action_text,
                archive_name=request.archive_name[:255],
                archive_format=archive_format,
                size=digests.size,
                fragment_count=len(digests.fragments),
                md5=digests.md5,
                sha256=digests.sha256,
                fragments=[_fragment_record(fragment) for fragment in digests.fragments],
                key_id=info.key_id,
                created_at=now,
            )
            try:
                os.rename(staging, store.package_dir(package_id))
            except OSError as exc:
                raise storage_error("The package could not be published", exc) from exc
            published = store.package_dir(package_id)
    except IntegrityError as exc:
        _remove(staging, published)
        raise PackageInputError(f"A package named {request.name!r} already exists.") from exc
    except BaseException:
        _remove(staging, published)
        raise
    finally:
        if held is not None:
            os.close(held)
    return package


def _fragment_record(fragment: FragmentDigest) -> dict[str, int | str]:
    return {"size": fragment.size, "sha256": fragment.sha256}


def _remove(*paths: Path | None) -> None:
    for path in paths:
        if path is not None:
            shutil.rmtree(path, ignore_errors=True)
