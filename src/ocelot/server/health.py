"""``/healthz``: is this server process able to do its job (issue 7, docs/operations.md).

Three checks, each ``ok``, ``warn`` or ``fail`` with a one-line detail: the database answers
a query, the package directory's file system has free space, and the server certificate
and the CA are not expired (``warn`` within ``cert_warning_days``). Any ``fail`` makes the
answer HTTP 503 so that a load balancer takes the process out; ``warn`` stays 200.
No authentication and nothing secret: paths are not shown, only figures and dates.
"""

from __future__ import annotations

import datetime
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connections

from ocelot.server.certificates import read_certificate
from ocelot.server.config import Config

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Check:
    """One check's outcome."""

    name: str
    status: str
    detail: str


def check_database(connection: Any = None) -> Check:
    connection = connection if connection is not None else connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        # The error's first line only: it may name the host, never a password (URLs are
        # not part of driver messages).
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Check("database", FAIL, f"unreachable: {first[:200]}")
    finally:
        # Outside Django's request cycle: a broken connection must not stay for the next one.
        try:
            connection.close_if_unusable_or_obsolete()
        except DatabaseError:
            connection.close()
    return Check("database", OK, f"{connection.vendor} answers")


def check_disk(path: Path, min_free_mb: int) -> Check:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        usage = shutil.disk_usage(probe)
    except OSError as exc:
        return Check("disk", FAIL, f"cannot read the package directory's file system: {exc.strerror}")
    free_mb = usage.free // (1024 * 1024)
    detail = f"{free_mb} MiB free of {usage.total // (1024 * 1024)} MiB (minimum {min_free_mb} MiB)"
    return Check("disk", OK if free_mb >= min_free_mb else FAIL, detail)


def check_certificate(name: str, path: Path, warning_days: int, now: datetime.datetime) -> Check:
    try:
        certificate = read_certificate(path)
    except (OSError, ValueError):
        return Check(name, FAIL, "missing or unreadable")
    left = certificate.not_valid_after_utc - now
    expires = f"expires {certificate.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}"
    if left <= datetime.timedelta(0):
        return Check(name, FAIL, f"expired ({expires})")
    if left <= datetime.timedelta(days=warning_days):
        return Check(name, WARN, f"{expires}, in {left.days} days: renew it (ocelot certs renew)")
    return Check(name, OK, f"{expires}, in {left.days} days")


def run_checks(config: Config, now: datetime.datetime | None = None, database: Any = None) -> list[Check]:
    moment = now or datetime.datetime.now(datetime.UTC)
    days = config.cert_warning_days
    return [
        check_database(database),
        check_disk(config.package_dir, config.health_min_free_mb),
        check_certificate("server_certificate", config.pki_dir / "server.pem", days, moment),
        check_certificate("ca_certificate", config.pki_dir / "ca.pem", days, moment),
    ]


def health_answer(
    config: Config, now: datetime.datetime | None = None, database: Any = None
) -> tuple[int, bytes]:
    """The HTTP status and JSON body of ``/healthz`` (``database``: another connection to check)."""
    checks = run_checks(config, now, database)
    failed = any(check.status == FAIL for check in checks)
    warned = any(check.status == WARN for check in checks)
    body = {
        "status": FAIL if failed else WARN if warned else OK,
        "checks": {check.name: {"status": check.status, "detail": check.detail} for check in checks},
    }
    return (503 if failed else 200), (json.dumps(body, indent=1) + "\n").encode()
