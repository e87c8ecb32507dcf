"""``ocelot backup FILE`` and ``ocelot restore FILE [--migrate] [--check]``.

The work is in :mod:`ocelot.server.backup` (the composition root knows every app's
tables); this door parses arguments, prints a summary and maps errors to one line and a
non-zero exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ocelot.server.backup import Manifest


def add_backup_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the archive to write ('-' for standard output)")
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")


def add_restore_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="an archive written by 'ocelot backup'")
    parser.add_argument(
        "--migrate",
        action="store_true",
        help="accept a backup of an older schema version and migrate it to this version",
    )
    parser.add_argument("--check", action="store_true", help="only check the archive; change nothing")


def _summary(manifest: Manifest) -> str:
    rows = sum(entry.rows for entry in manifest.tables)
    return (
        f"{len(manifest.tables)} tables, {rows} rows, {len(manifest.files)} files "
        f"(Ocelot {manifest.ocelot_version}, {manifest.database}, made {manifest.created_at})"
    )


def run_backup(args: argparse.Namespace) -> int:
    from django.conf import settings

    from ocelot.server.backup import BackupError, write_backup

    home = settings.CONFIG.home
    try:
        if args.file == "-":
            write_backup(sys.stdout.buffer, home)
            return 0
        target = Path(args.file)
        if target.exists() and not args.force:
            print(f"ocelot backup: {target} exists (--force replaces it)", file=sys.stderr)
            return 1
        # Written beside the target and renamed: a failed backup never leaves half a file
        # under the name an administrator would restore from.
        fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent or ".")
        try:
            with os.fdopen(fd, "wb") as out:
                manifest = write_backup(out, home)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
    except (BackupError, OSError) as exc:
        print(f"ocelot backup: {exc}", file=sys.stderr)
        return 1
    print(f"backup written to {target}: {_summary(manifest)}")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from django.conf import settings

    from ocelot.server.backup import BackupError, restore_backup, verify_archive

    path = Path(args.file)
    try:
        if args.check:
            manifest = verify_archive(path)
            print(f"{path}: a complete Ocelot backup: {_summary(manifest)}")
            return 0
        report = restore_backup(path, settings.CONFIG.home, migrate=args.migrate)
    except (BackupError, OSError) as exc:
        print(f"ocelot restore: {exc}; the installation was left as it was", file=sys.stderr)
        return 1
    migrated = " and migrated to this version" if report.migrated else ""
    print(f"restored {path}{migrated}: {_summary(report.manifest)}")
    print("restart every 'ocelot server' process so that they read the restored keys and files")
    return 0
