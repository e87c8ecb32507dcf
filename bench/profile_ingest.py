"""Where one process spends its time on the benchmark's requests (cProfile + SQL statistics).

    .venv/bin/python -m bench.profile_ingest                       # SQLite in a temp home
    .venv/bin/python -m bench.profile_ingest --postgresql            # a throwaway PostgreSQL cluster
    .venv/bin/python -m bench.profile_ingest --agents 20 --top 30

Runs in a single process, without HTTP: the same agents as ``bench.agents`` go through the
view (``django.test.Client`` POSTs to /ocsinventory, so codec, parser, middleware and
``store_inventory`` are all included): PROLOG of unknown computers, first INVENTORY,
PROLOG of known computers, re-INVENTORY. For each phase it prints the time per request,
the CPU per request of Ocelot's process and (a PostgreSQL server on this machine) of its
backend, the SQL statements per request and the statements and functions that dominate.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.payload import USER_AGENT, make_fleet


class SqlStats:
    """Django execute wrapper: time and count per normalised statement."""

    def __init__(self) -> None:
        self.time: dict[str, float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = re.sub(r"\s+", " ", sql)
            key = re.sub(r"(%s|\?)(, ?(%s|\?))+", "?…", key)
            key = re.sub(r"\((?:\?…|%s|\?)\)(, ?\((?:\?…|%s|\?)\))+", "(…)…", key)
            key = key[:160] + (" [many]" if many else "")
            self.time[key] += time.perf_counter() - started
            self.count[key] += 1

    def reset(self) -> None:
        self.time.clear()
        self.count.clear()


def _backend_cpu() -> float | None:
    """CPU seconds of this process's PostgreSQL backend (``/proc``: a server on this machine)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _profile_phase(
    name: str, bodies: list[bytes], client: Any, sql: SqlStats, top: int, use_cprofile: bool
) -> None:
    sql.reset()
    profiler = cProfile.Profile()
    backend_before = _backend_cpu()
    cpu_before = time.process_time()
    started = time.perf_counter()
    if use_cprofile:
        profiler.enable()
    statuses: dict[int, int] = defaultdict(int)
    for body in bodies:
        response = client.post(
            "/ocsinventory",
            data=body,
            content_type="application/x-compress",
            HTTP_USER_AGENT=USER_AGENT,
            REMOTE_ADDR="127.0.0.1",
        )
        statuses[response.status_code] += 1
    profiler.disable()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    backend_after = _backend_cpu()
    n = len(bodies)
    total_sql = sum(sql.time.values())
    print(f"\n=== {name}: {n} requests, {elapsed / n * 1000:.1f} ms each, statuses {dict(statuses)}")
    backend = (
        f", PostgreSQL backend {(backend_after - backend_before) / n * 1000:.1f} ms"
        if backend_before is not None and backend_after is not None
        else ""
    )
    note = " (cProfile's overhead included: --no-cprofile for true figures)" if use_cprofile else ""
    print(f"    CPU per request: Ocelot {cpu / n * 1000:.1f} ms{backend}{note}")
    print(
        f"    SQL: {sum(sql.count.values()) / n:.1f} statements and {total_sql / n * 1000:.1f} ms"
        f" per request ({total_sql / elapsed * 100:.0f}% of the time)"
    )
    for key, spent in sorted(sql.time.items(), key=lambda kv: -kv[1])[:top]:
        print(f"    {spent / n * 1000:7.2f} ms {sql.count[key] / n:6.1f}x  {key}")
    if not use_cprofile:
        return
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    print("    -- functions by own time --")
    print("\n".join("    " + line for line in out.getvalue().splitlines()[6:] if line.strip()))
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"ocelot", top)
    print("    -- ocelot functions by cumulative time --")
    print("\n".join("    " + line for line in out.getvalue().splitlines()[6:] if line.strip()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_ingest", description=__doc__)
    parser.add_argument("--agents", type=int, default=30)
    parser.add_argument("--database-url", help="default: SQLite in a temporary OCELOT_HOME")
    parser.add_argument("--postgresql", action="store_true", help="start a throwaway PostgreSQL cluster")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument(
        "--no-cprofile", action="store_true", help="only time requests and SQL (no cProfile overhead)"
    )
    parser.add_argument("--phases", default="prolog_new,inventory_first,prolog_known,inventory_again")
    args = parser.parse_args(argv)
    cluster = None
    if args.postgresql:
        from bench.targets import PostgresCluster

        cluster = PostgresCluster()
        cluster.start()
        cluster.recreate("ocelot_profile")
        args.database_url = f"postgresql://postgres@127.0.0.1:{cluster.port}/ocelot_profile"
    home = tempfile.mkdtemp(prefix="ocelot-profile-")
    try:
        return _run(args, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)
        if cluster is not None:
            from django.db import connections

            connections.close_all()
            cluster.stop()


def _run(args: argparse.Namespace, home: str) -> int:
    os.environ["OCELOT_HOME"] = home
    if args.database_url:
        os.environ["OCELOT_DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("OCELOT_DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "ocelot.server.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", interactive=False, verbosity=0)
    fleet = make_fleet(args.agents, "profile")
    client = Client()
    sql = SqlStats()
    wanted = args.phases.split(",")
    bodies = {
        "prolog_new": [a.prolog for a in fleet],
        "inventory_first": [a.first for a in fleet],
        "prolog_known": [a.prolog for a in fleet] * 3,
        "inventory_again": [a.again for a in fleet],
    }
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']}); home {home}")
    with connection.execute_wrapper(sql):
        for name, phase_bodies in bodies.items():
            if name in wanted:
                _profile_phase(name, phase_bodies, client, sql, args.top, not args.no_cprofile)
            else:
                for body in phase_bodies:
                    client.post(
                        "/ocsinventory",
                        data=body,
                        content_type="application/x-compress",
                        HTTP_USER_AGENT=USER_AGENT,
                    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
