"""Fill an Ocelot database with a realistic fleet, fast, for ``bench.pages``.

Run by ``bench.pages`` in its own process with ``OCELOT_HOME`` / ``OCELOT_DATABASE_URL``
pointing at a migrated, empty database::

    python -m bench.pages_seed --computers 20000 --installations 1000000 --out names.json

What it writes (deterministic for a given ``--seed``):

* computers with the HARDWARE columns an agent fills (OS, memory, CPU, IP, user, agent,
  inventory and contact dates), one BIOS row, one or two network interfaces, two drives,
  a TAG (one of 24 sites) and two account info values; 1 % have an own setting (the red
  marker of the list);
* a software catalogue with a long tail: 40 common names installed on 30-97 % of the
  computers in 2-6 versions, then thousands of names drawn with Zipf weights (s = 1), so a
  few are on most computers and most on a handful, each in 1-3 versions;
* exactly ``installations // computers`` installations per computer, distinct software.

Rows go in with one statement per batch (``executemany``) on SQLite and ``COPY`` on
PostgreSQL: about a minute for a million installations. PostgreSQL is then analysed (as
autovacuum would soon do after such a load); SQLite is left as Ocelot leaves it (Ocelot
never runs ``ANALYZE``), so its planner sees what a real installation's sees.

The output JSON names the software the benchmark searches for: two of mid-range popularity
and one common, with the number of computers having each.
"""

from __future__ import annotations

import argparse
import bisect
import datetime
import hashlib
import itertools
import json
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

SITES = [
    "PARIS",
    "LYON",
    "MARSEILLE",
    "TOULOUSE",
    "NANTES",
    "LILLE",
    "BORDEAUX",
    "RENNES",
    "STRASBOURG",
    "NICE",
    "GRENOBLE",
    "DIJON",
    "MADRID",
    "BARCELONA",
    "SEVILLA",
    "VALENCIA",
    "BILBAO",
    "MALAGA",
    "MONTREAL",
    "QUEBEC",
    "GENEVE",
    "BRUXELLES",
    "DAKAR",
    "",
]
OPERATING_SYSTEMS = [
    ("Microsoft Windows 10 Professionnel", "10.0.19045", 35),
    ("Microsoft Windows 11 Professionnel", "10.0.22631", 30),
    ("Microsoft Windows Server 2019 Standard", "10.0.17763", 5),
    ("Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64", 12),
    ("Ubuntu 22.04.4 LTS", "5.15.0-101-generic", 10),
    ("Rocky Linux 9.3 (Blue Onyx)", "5.14.0-362.el9.x86_64", 3),
    ("macOS 14.4", "23.4.0", 5),
]
AGENTS = {
    "Microsoft": "OCS-NG_WINDOWS_AGENT_v2.10.1.0",
    "other": "OCS-NG_unified_unix_agent_v2.10.0",
}
MODELS = [
    ("Dell Inc.", "Latitude 5440"),
    ("Dell Inc.", "OptiPlex 7010"),
    ("LENOVO", "21HES0EF00"),
    ("LENOVO", "ThinkCentre M70q"),
    ("HP", "EliteBook 840 G9"),
    ("HP", "ProDesk 400 G7"),
    ("Apple Inc.", "MacBookPro18,1"),
    ("QEMU", "Standard PC (Q35 + ICH9, 2009)"),
]
COMMON_SOFTWARE = [
    "Mozilla Firefox",
    "Google Chrome",
    "Microsoft Edge",
    "7-Zip",
    "Adobe Acrobat Reader",
    "VLC media player",
    "Notepad++",
    "LibreOffice",
    "Microsoft Office Professionnel Plus 2019",
    "Microsoft Teams",
    "Zoom",
    "OCS Inventory NG Agent",
    "Microsoft Visual C++ 2015-2022 Redistributable (x64)",
    "Microsoft Visual C++ 2015-2022 Redistributable (x86)",
    "Microsoft .NET Runtime",
    "Java 8 Update 401",
    "Python 3.11",
    "Git",
    "PuTTY",
    "WinSCP",
    "FileZilla Client",
    "KeePass Password Safe",
    "Thunderbird",
    "GIMP",
    "Inkscape",
    "Visual Studio Code",
    "openssl",
    "libc6",
    "bash",
    "coreutils",
    "openssh-client",
    "curl",
    "ca-certificates",
    "tzdata",
    "systemd",
    "perl-base",
    "python3",
    "vim-tiny",
    "sudo",
    "rsync",
]
PUBLISHERS = ["Microsoft Corporation", "Mozilla", "Google LLC", "The Document Foundation", "", "", ""]
SYLLABLES = ["lib", "net", "data", "core", "x", "py", "gtk", "qt", "kde", "web", "db", "cloud", "sec", "ms"]
SUFFIXES = ["tools", "utils", "client", "server", "dev", "common", "runtime", "plugin", "sdk", "viewer"]


def software_key(name: str, publisher: str, version: str) -> str:
    # Same key as ocelot.inventory.ingest.software_key (not imported: Django is not set up yet).
    return hashlib.sha256(
        "\x00".join((name, publisher, version)).encode("utf-8", "surrogatepass")
    ).hexdigest()


class Catalogue:
    """Software names, their versions and how likely a computer has each."""

    def __init__(self, rng: random.Random, tail_names: int) -> None:
        self.rows: list[tuple[str, str, str]] = []  # (name, publisher, version), index = id - 1
        self.versions: dict[str, list[int]] = {}  # name -> row indexes, most common version first
        self.common: list[tuple[str, float]] = []
        for rank, name in enumerate(COMMON_SOFTWARE):
            self.common.append((name, 0.97 - 0.67 * rank / (len(COMMON_SOFTWARE) - 1)))
            self._add(name, rng.choice(PUBLISHERS), rng.randint(2, 6))
        self.tail: list[str] = []
        used = set(COMMON_SOFTWARE)
        while len(self.tail) < tail_names:
            name = (
                f"{rng.choice(SYLLABLES)}{rng.choice(SYLLABLES)}-{rng.choice(SUFFIXES)}{rng.randint(1, 999)}"
            )
            if name in used:
                continue
            used.add(name)
            self.tail.append(name)
            self._add(name, rng.choice(PUBLISHERS), rng.choice((1, 1, 1, 2, 2, 3)))
        # Zipf weights (s = 1) over the tail, as cumulative weights for bisect.
        self.cumulative = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(self.tail))))

    def _add(self, name: str, publisher: str, count: int) -> None:
        indexes = []
        for number in range(count):
            indexes.append(len(self.rows))
            self.rows.append((name, publisher, f"{number + 1}.{number * 3 % 10}.{(number * 7) % 100}"))
        self.versions[name] = indexes

    def pick_version(self, rng: random.Random, name: str) -> int:
        indexes = self.versions[name]
        # The newest version on most computers, older ones on fewer.
        position = min(int(rng.expovariate(1.5)), len(indexes) - 1)
        return indexes[position]

    def installed_on_one(self, rng: random.Random, count: int) -> list[int]:
        names = [name for name, probability in self.common if rng.random() < probability][:count]
        chosen = set(names)
        total = self.cumulative[-1]
        while len(names) < count:
            name = self.tail[bisect.bisect_left(self.cumulative, rng.random() * total)]
            if name not in chosen:
                chosen.add(name)
                names.append(name)
        return [self.pick_version(rng, name) for name in names]


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocelot.server.settings")
    import django

    django.setup()


class Writer:
    """Bulk rows into one model's table: COPY on PostgreSQL, executemany elsewhere."""

    BATCH = 5000

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.vendor = connection.vendor

    def columns(self, model: Any, given: Sequence[str]) -> tuple[list[str], list[Any]]:
        """Every column of ``model`` (``given`` first), with the defaults of the others."""
        from django.db import models

        fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.attname not in given)]
        names = list(given)
        defaults: list[Any] = []
        for field in fields:
            if field.attname in given:
                continue
            default = field.get_default()
            if isinstance(field, models.JSONField):
                default = json.dumps(default)
            names.append(field.attname)
            defaults.append(default)
        return names, defaults

    def write(self, model: Any, given: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        names, defaults = self.columns(model, given)
        table = model._meta.db_table
        quote = self.connection.ops.quote_name
        columns = ", ".join(
            quote(model._meta.get_field(n).column) if n != "id" else quote("id") for n in names
        )
        written = 0
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row((*row, *defaults))
                        written += 1
                return written
            placeholders = ", ".join(["%s"] * len(names))
            sql = f"INSERT INTO {quote(table)} ({columns}) VALUES ({placeholders})"
            batch: list[tuple[Any, ...]] = []
            for row in rows:
                batch.append((*row, *defaults))
                if len(batch) >= self.BATCH:
                    cursor.executemany(sql, batch)
                    written += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                written += len(batch)
        return written


def _timestamp(value: datetime.datetime, vendor: str) -> Any:
    # SQLite: the text Django itself stores for an aware UTC datetime.
    return value if vendor == "postgresql" else value.replace(tzinfo=None).isoformat(" ")


def seed(computers: int, installations: int, seed_value: int, log: Any) -> dict[str, Any]:
    _setup_django()
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from ocelot.inventory.models import (
        AccountField,
        AccountInfo,
        AccountValue,
        Bios,
        Computer,
        Drive,
        NetworkInterface,
        SettingOverride,
        Software,
        SoftwareInstallation,
    )

    if Computer.objects.exists():
        raise SystemExit("the database already holds computers; seed an empty one")
    rng = random.Random(seed_value)
    per_computer = max(1, installations // computers)
    # About 18,000 catalogue rows for 20,000 computers (fewer for smaller fleets).
    catalogue = Catalogue(rng, tail_names=max(200, min(9000, computers * 9 // 20)))
    writer = Writer()
    vendor = writer.vendor
    now = datetime.datetime(2026, 11, 21, 12, 0, tzinfo=datetime.UTC)
    started = time.monotonic()
    os_weights = list(itertools.accumulate(weight for *_x, weight in OPERATING_SYSTEMS))

    def computer_rows() -> Iterable[tuple[Any, ...]]:
        for number in range(1, computers + 1):
            os_name, os_version, _w = OPERATING_SYSTEMS[
                bisect.bisect_left(os_weights, rng.random() * os_weights[-1])
            ]
            windows = os_name.startswith("Microsoft")
            site = SITES[number % len(SITES)] or "HQ"
            name = f"{site[:3]}-{'WS' if windows else 'LX'}-{number:05d}"
            contact = now - datetime.timedelta(minutes=rng.randint(0, 60 * 24 * 60))
            yield (
                number,
                f"{name}-2026-01-01-00-00-00",
                name,
                os_name,
                os_version,
                rng.choice((4096, 8192, 8192, 16384, 16384, 32768)),
                2048,
                "Intel(R) Core(TM) i5-1345U" if rng.random() < 0.6 else "AMD Ryzen 5 PRO 5650U",
                rng.choice((1600, 2100, 2500, 3200)),
                rng.choice((4, 8, 12)),
                f"10.{number // 65536}.{number // 256 % 256}.{number % 256}",
                f"user{rng.randint(1, 5000):04d}",
                "CORP" if windows else "corp.example",
                AGENTS["Microsoft" if windows else "other"],
                f"{rng.getrandbits(64):016x}-{number:08d}",
                _timestamp(contact - datetime.timedelta(hours=rng.randint(0, 48)), vendor),
                _timestamp(contact, vendor),
                _timestamp(contact - datetime.timedelta(days=rng.randint(30, 900)), vendor),
                "x86_64",
            )

    with transaction.atomic():
        log("computers")
        writer.write(
            Computer,
            [
                "id",
                "device_id",
                "name",
                "os_name",
                "os_version",
                "memory",
                "swap",
                "processor_type",
                "processor_speed",
                "processor_count",
                "ip_address",
                "user_id",
                "workgroup",
                "user_agent",
                "uuid",
                "last_inventory_at",
                "last_contact_at",
                "first_seen_at",
                "architecture",
            ],
            computer_rows(),
        )
        log("BIOS, networks, drives, TAGs, account info")
        writer.write(
            Bios,
            [
                "computer_id",
                "system_manufacturer",
                "system_model",
                "system_serial",
                "bios_manufacturer",
                "bios_version",
            ],
            (
                (n, *rng.choice(MODELS), f"SN{rng.getrandbits(40):010X}", "Dell Inc.", f"1.{n % 23}.0")
                for n in range(1, computers + 1)
            ),
        )

        def networks() -> Iterable[tuple[Any, ...]]:
            for n in range(1, computers + 1):
                yield (
                    n,
                    "Ethernet",
                    f"10.{n // 65536}.{n // 256 % 256}.{n % 256}",
                    f"10.{n // 65536}.{n // 256 % 256}.0",
                    "255.255.255.0",
                    f"02:00:{n >> 24 & 255:02x}:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}",
                    "Up",
                )
                if n % 3 == 0:
                    yield (
                        n,
                        "Wifi",
                        "",
                        "",
                        "",
                        f"06:00:{n >> 24 & 255:02x}:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}",
                        "Down",
                    )

        writer.write(
            NetworkInterface,
            ["computer_id", "description", "ip_address", "subnet", "netmask", "mac", "status"],
            networks(),
        )
        writer.write(
            Drive,
            ["computer_id", "letter", "filesystem", "total", "free"],
            (
                row
                for n in range(1, computers + 1)
                for row in (
                    (n, "C:", "NTFS", 476000, rng.randint(1000, 400000)),
                    (n, "D:", "NTFS", 953000, rng.randint(1000, 900000)),
                )
            ),
        )
        writer.write(
            AccountInfo,
            ["computer_id", "tag"],
            ((n, SITES[n % len(SITES)]) for n in range(1, computers + 1)),
        )
        room = AccountField.objects.create(name="Room")
        owner = AccountField.objects.create(name="Owner")
        writer.write(
            AccountValue,
            ["computer_id", "field_id", "text"],
            (
                row
                for n in range(1, computers + 1)
                for row in ((n, room.pk, f"R{n % 400:03d}"), (n, owner.pk, f"owner{n % 997}"))
            ),
        )
        writer.write(
            SettingOverride,
            ["computer_id", "name", "value"],
            ((n, "FREQUENCY", "2") for n in range(1, computers + 1, 100)),
        )
        log(f"catalogue: {len(catalogue.rows)} software rows")
        writer.write(
            Software,
            ["id", "key", "name", "publisher", "version"],
            (
                (index + 1, software_key(name, publisher, version), name, publisher, version)
                for index, (name, publisher, version) in enumerate(catalogue.rows)
            ),
        )
        log(f"installations: {per_computer} per computer")
        having: Counter[str] = Counter()

        def installation_rows() -> Iterable[tuple[Any, ...]]:
            for n in range(1, computers + 1):
                for index in catalogue.installed_on_one(rng, per_computer):
                    having[catalogue.rows[index][0]] += 1
                    yield (n, index + 1, "C:\\Program Files" if n % 2 else "", "2026/01/15")

        written = writer.write(
            SoftwareInstallation,
            ["computer_id", "software_id", "folder", "install_date"],
            installation_rows(),
        )
        log(f"{written} installations written")
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(
                no_style(),
                [Computer, Software, AccountField, Bios, NetworkInterface, Drive, SoftwareInstallation],
            ):
                cursor.execute(statement)
    if vendor == "postgresql":
        log("VACUUM ANALYZE")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    elapsed = time.monotonic() - started
    log(f"seeded in {elapsed:.0f} s")
    return {
        "computers": computers,
        "installations": written,
        "software_rows": len(catalogue.rows),
        "seconds": round(elapsed, 1),
        "search": _search_names(having, computers),
    }


def _search_names(having: Counter[str], computers: int) -> dict[str, Any]:
    """Two names of mid-range popularity (near 5 % and 3 % of the computers) and one common."""

    def nearest(share: float, exclude: Sequence[str]) -> str:
        candidates = [name for name in having if name not in exclude]
        return min(candidates, key=lambda name: (abs(having[name] / computers - share), name))

    mid1 = nearest(0.05, [])
    mid2 = nearest(0.03, [mid1])
    popular = COMMON_SOFTWARE[0]
    return {
        "mid1": mid1,
        "mid2": mid2,
        "popular": popular,
        "computers_having": {name: having[name] for name in (mid1, mid2, popular)},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--computers", type=int, default=20000)
    parser.add_argument("--installations", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--out", type=Path, required=True, help="JSON file: what was written, names to search"
    )
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(f"[seed] {message}", flush=True)

    result = seed(args.computers, args.installations, args.seed, log)
    args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
