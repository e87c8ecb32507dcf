"""Storing the result of a /16 IP-discovery scan (65,536 hosts) from one agent.

    python -m bench.ipdiscover [--hosts 65536] [--write]

Runs against the database ``OCELOT_DATABASE_URL`` names (default: SQLite in a temporary
home), migrated here. Measures, for the same 65,536 hosts of 10.20.0.0/16:

* **parse**: the scanner's inventory XML (CONTENT/IPDISCOVER/H) read by the protocol layer;
* **store, first scan**: :func:`ocelot.ipdiscover.discovered.store_scan` inserting every row;
* **store, second scan**: the same call again, every row an update (last seen moves);
* **reference**: a plain ``executemany`` INSERT of the same rows into the same empty table
  (same indexes), all parameters built first: what the simplest code would do for a
  first scan, with no upsert, no MAC check and no link to inventoried computers.

Time is measured without tracing; peak Python memory in a second run under
``tracemalloc``. ``--write`` puts the figures into bench/README.md (its ipdiscover section).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

START = "<!-- bench:ipdiscover:start -->"
END = "<!-- bench:ipdiscover:end -->"


def _setup() -> None:
    if "OCELOT_HOME" not in os.environ:
        os.environ["OCELOT_HOME"] = tempfile.mkdtemp(prefix="ocelot-bench-ipdiscover-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocelot.server.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _hosts(count: int) -> list[tuple[str, str, str]]:
    return [
        (
            f"10.20.{n // 256}.{n % 256}",
            f"02:42:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}:01",
            f"host{n}",
        )
        for n in range(count)
    ]


def _xml(hosts: list[tuple[str, str, str]]) -> bytes:
    lines = [f"<H><I>{ip}</I><M>{mac}</M><N>{name}</N></H>" for ip, mac, name in hosts]
    return (
        "<?xml version='1.0' encoding='UTF-8'?><REQUEST><DEVICEID>scanner-2026-01-01-00-00-00</DEVICEID>"
        "<QUERY>INVENTORY</QUERY><CONTENT><HARDWARE><NAME>scanner</NAME></HARDWARE>"
        f"<IPDISCOVER>{''.join(lines)}</IPDISCOVER></CONTENT></REQUEST>"
    ).encode()


def _measure(step: Callable[[], object], before: Callable[[], None]) -> tuple[float, float]:
    """(seconds, peak MiB of Python allocations) of ``step``, each from its own run."""
    before()
    started = time.perf_counter()
    step()
    seconds = time.perf_counter() - started
    before()
    tracemalloc.start()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=65536)
    parser.add_argument("--write", action="store_true", help="update bench/README.md")
    options = parser.parse_args()
    _setup()

    from django.db import connection, transaction
    from django.utils import timezone

    from ocelot.ipdiscover.discovered import store_scan
    from ocelot.ipdiscover.models import DiscoveredDevice
    from ocelot.protocol.limits import Limits
    from ocelot.protocol.messages import Inventory, read_request
    from ocelot.protocol.xmltree import parse_xml

    hosts = _hosts(options.hosts)
    body = _xml(hosts)
    limits = Limits()
    table = DiscoveredDevice._meta.db_table

    def nothing() -> None:
        return None

    def empty() -> None:
        DiscoveredDevice.objects.all().delete()

    def parse() -> Inventory:
        message = read_request(parse_xml(body, limits), limits)
        assert isinstance(message, Inventory)
        return message

    parsed = parse().discovered_hosts or []
    assert len(parsed) == options.hosts

    def store() -> None:
        # As the inventory hook runs it: inside the inventory's transaction.
        with transaction.atomic():
            store_scan(parsed, subnet="10.20.0.0", netmask="255.255.0.0", now=timezone.now())

    def reference() -> None:
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        params = [(h.mac.lower(), h.ip, "255.255.0.0", "10.20.0.0", h.name, now, now) for h in parsed]
        sql = (
            f"INSERT INTO {table} (mac, ip_address, netmask, subnet, name, first_seen_at, last_seen_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            for start in range(0, len(params), 2000):
                cursor.executemany(sql, params[start : start + 2000])

    figures = {
        "parse the inventory XML": _measure(parse, nothing),
        "store, first scan (inserts)": _measure(store, empty),
        "store, second scan (updates)": _measure(store, nothing),
        "reference: plain executemany INSERT": _measure(reference, empty),
    }
    assert DiscoveredDevice.objects.count() == options.hosts
    vendor = (
        f"{connection.vendor} {connection.Database.sqlite_version if connection.vendor == 'sqlite' else ''}"
    )
    lines = [
        f"{options.hosts:,} hosts, {len(body) / 2**20:.1f} MiB of XML, database {vendor.strip()}:",
        "",
        "| step | time | peak Python memory |",
        "|---|---|---|",
        *(f"| {name} | {seconds:.2f} s | {peak:.1f} MiB |" for name, (seconds, peak) in figures.items()),
    ]
    print("\n".join(lines))
    if options.write:
        readme = Path(__file__).with_name("README.md")
        text = readme.read_text()
        block = f"{START}\n" + "\n".join(lines) + f"\n{END}"
        if START in text:
            head, rest = text.split(START, 1)
            text = head + block + rest.split(END, 1)[1]
        else:
            text = text.rstrip("\n") + "\n\n## IP discovery: storing a /16 scan\n\n" + block + "\n"
        readme.write_text(text)


if __name__ == "__main__":
    main()
