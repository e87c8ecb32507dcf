"""Replay simulated OCS agents against Ocelot (SQLite, PostgreSQL) and the real OCS server.

    .venv/bin/python -m bench.agents                 # full run (as root: the reference needs apt)
    .venv/bin/python -m bench.agents --quick         # smoke run, a minute or two
    .venv/bin/python bench/run.py --targets ocelot-sqlite --concurrency 8

For every target and concurrency level, on an empty database, every agent of the fleet goes
through four phases, each timed on its own with a bounded pool of client threads:

1. ``prolog_new``: PROLOG of a computer the server does not know yet;
2. ``inventory_first``: its first INVENTORY (CHECKSUM 1572863, ~800 packages);
3. ``prolog_known``: PROLOG of the now known computer, repeated until at least
   ``--min-prologs`` requests were made;
4. ``inventory_again``: the re-inventory (CHECKSUM 513, new DRIVES free space, every fifth
   agent one package upgraded).

After each inventory phase the database is read directly to count what was actually stored
for every acknowledged (HTTP 200 + valid reply) inventory. Results go to bench/results/*.json
and the figures table to bench/README.md. See bench/README.md for the targets.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report
from bench.load import run_phase
from bench.payload import Agent, make_fleet, make_prolog
from bench.targets import Census, OcelotTarget, OcsReference, cpu_snapshot, cpu_usage, wait_for_quiet
from ocelot.server.config import DEFAULT_THREADS

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = ("ocs", "ocelot-sqlite", "ocelot-postgresql")
# Not run by default: Ocelot under its other HTTP engine, for the engine comparison.
OTHER_TARGETS = ("ocelot-sqlite-gunicorn", "ocelot-postgresql-gunicorn")


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def verify(acknowledged: list[int], fleet: list[Agent], census: Census, *, again: bool) -> dict[str, Any]:
    """Compare what was acknowledged with what the database holds, agent by agent."""
    by_index = {agent.index: agent for agent in fleet}
    stored = 0
    lost: list[str] = []
    for index in acknowledged:
        agent = by_index[index]
        row = census.computers.get(agent.device_id)
        if again:
            good = (
                row is not None
                and row.software == agent.again_software
                and row.free == agent.again_free
                and (row.upgraded >= 1) == agent.upgraded
            )
        else:
            good = row is not None and row.software == agent.first_software and row.free == agent.first_free
        if good:
            stored += 1
        elif len(lost) < 10:
            lost.append(f"{agent.device_id}: {row}")
    keys: set[tuple[str, str, str]] = set()
    for agent in fleet:
        keys |= agent.first_keys
        if again:
            keys |= agent.again_keys
    return {
        "acknowledged": len(acknowledged),
        "stored": stored,
        "lost": len(acknowledged) - stored,
        "lost_samples": lost,
        "computers_in_db": len(census.computers),
        "software_rows_in_db": sum(row.software for row in census.computers.values()),
        "catalogue_in_db": census.catalogue,
        "catalogue_if_all_stored": len(keys),
    }


def settle(pids: list[int], threshold: float = 0.15, max_wait: float = 60.0) -> float:
    """Wait until the machine is idle (below ``threshold`` cores over half a second, the
    server under test and its database included), at most ``max_wait`` seconds; the seconds
    waited.

    Each phase is measured on its own: after the inventories, PostgreSQL's autovacuum and
    checkpointer, or InnoDB's purge and flushing, go on for seconds. They were counted in
    the next phase's latencies and CPU per request (a PROLOG phase on PostgreSQL measured
    1.2 to 1.8 ms of server CPU per request from one run to the next), and the reference's
    MariaDB, still purging what OCS's deadlocked inventories left, took 0.3-0.5 cores from
    Ocelot's phases that followed (run of 08:40, fifth session).
    """
    started = time.monotonic()
    while time.monotonic() - started < max_wait:
        before = cpu_snapshot(pids)
        time.sleep(0.5)
        usage = cpu_usage(before, cpu_snapshot(pids))
        if usage["server_cores"] + usage["other_cores"] < threshold:
            break
    return round(time.monotonic() - started, 1)


def run_scenario(
    target: OcelotTarget | OcsReference, fleet: list[Agent], concurrency: int, args: argparse.Namespace
) -> dict[str, Any]:
    busy = wait_for_quiet(args.quiet_wait, args.quiet_threshold, _log) if args.quiet_wait else None
    loadavg = Path("/proc/loadavg").read_text().split()[:3]
    url = target.start_scenario(f"c{concurrency}")
    _log(f"{target.name} c={concurrency}: {len(fleet)} agents at {url}")
    phases: dict[str, Any] = {}
    try:
        # Warm-up, not measured: lets Apache fork its children and the workers open their
        # database connections. Unknown DEVICEIDs, so nothing is stored.
        warm = [(i, make_prolog(f"warmup-c{concurrency}-{i}")) for i in range(max(16, 4 * concurrency))]
        run_phase(url, "prolog", warm, concurrency, timeout=args.timeout)
        if isinstance(target, OcsReference):
            target.start_log()
        deadlocks = target.deadlocks() if isinstance(target, OcsReference) else None
        plan: list[tuple[str, str, list[tuple[int, bytes]]]] = []
        rounds = max(1, math.ceil(args.min_prologs / len(fleet)))
        plan.append(("prolog_new", "prolog", [(a.index, a.prolog) for a in fleet]))
        plan.append(("inventory_first", "inventory", [(a.index, a.first) for a in fleet]))
        plan.append(("prolog_known", "prolog", [(a.index, a.prolog) for _ in range(rounds) for a in fleet]))
        plan.append(("inventory_again", "inventory", [(a.index, a.again) for a in fleet]))
        for name, kind, jobs in plan:
            pids = target.server_pids()
            summary_settle = settle(pids)
            before = cpu_snapshot(pids)
            result = run_phase(url, kind, jobs, concurrency, timeout=args.timeout)
            after = cpu_snapshot(pids)
            summary = result.summary()
            summary["cpu"] = cpu_usage(before, after)
            # CPU time the server (and its database) spent per successful request: unlike
            # the rates, hardly affected by other work on the machine.
            summary["server_cpu_ms_per_request"] = (
                round(summary["cpu"]["server_cores"] * result.wall / result.ok * 1000, 1)
                if result.ok
                else None
            )
            if kind == "inventory":
                census = target.census()
                summary.update(verify(result.acknowledged, fleet, census, again=name == "inventory_again"))
                if isinstance(target, OcsReference):
                    now = target.deadlocks()
                    summary["innodb_deadlocks"] = now - (deadlocks or 0)
                    deadlocks = now
            summary["settle_s"] = summary_settle
            phases[name] = summary
            line = (
                f"  {name:16s} {summary['ok']:5d}/{summary['requests']:<5d} ok "
                f"{summary['rate_per_s']:8.2f}/s  p50 {summary['p50_ms']:8.1f} ms"
                f"  p99 {summary['p99_ms']:8.1f} ms"
            )
            line += "  cpu server {server_cores} client {client_cores} other {other_cores}".format(
                **summary["cpu"]
            )
            if summary["errors"]:
                line += f"  errors {summary['error_kinds']}"
            if kind == "inventory":
                line += f"  stored {summary['stored']}/{summary['acknowledged']}"
                if "innodb_deadlocks" in summary:
                    line += f"  deadlocks {summary['innodb_deadlocks']}"
            _log(line)
        errors = target.server_errors()
        for text, count in errors.items():
            _log(f"  server log: {count} x {text}")
    finally:
        target.stop_scenario()
    return {
        "target": target.name,
        "concurrency": concurrency,
        "agents": len(fleet),
        "loadavg_before": loadavg,
        "machine_busy_before": busy,
        "phases": phases,
        "server_errors": errors,
    }


def _target_key(name: str) -> str:
    return "ocs" if name == OcsReference.name else name


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.agents",
        description="Simulated OCS agents against Ocelot (SQLite, PostgreSQL) and the real OCS 2.8.1.",
    )
    parser.add_argument(
        "--targets", default=",".join(TARGETS), help=f"comma list of {', '.join(TARGETS + OTHER_TARGETS)}"
    )
    parser.add_argument("--concurrency", default="1,8,32", help="comma list of client concurrency levels")
    parser.add_argument("--agents", type=int, default=200, help="agents per level for Ocelot (default 200)")
    parser.add_argument("--ref-agents", type=int, default=48, help="agents per level for OCS (default 48)")
    parser.add_argument(
        "--min-prologs", type=int, default=1000, help="known-computer PROLOGs per scenario (default 1000)"
    )
    parser.add_argument("--workers", type=int, help="OCELOT_WORKERS for the server (default: its own)")
    parser.add_argument("--threads", type=int, help="OCELOT_THREADS for the server (default: its own)")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an Ocelot option to change before serving (ocelot settings set), repeatable",
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="per-request timeout in seconds")
    parser.add_argument("--quick", action="store_true", help="smoke run: 40 agents, 16 for OCS, 200 prologs")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=90.0,
        help="before each scenario, wait up to this many seconds for other work to stop (0: never)",
    )
    parser.add_argument(
        "--quiet-threshold", type=float, default=0.3, help="cores of other work considered quiet"
    )
    parser.add_argument("--keep-reference", action="store_true", help="leave Apache and MariaDB running")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite bench/README.md")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    parser.add_argument(
        "--report",
        type=Path,
        metavar="JSON",
        help="measure nothing: print (and write into bench/README.md) the figures of a results file",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.agents, args.ref_agents, args.min_prologs = 40, 16, 200
    args.settings = dict(item.split("=", 1) for item in args.setting)
    args.target_list = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = set(args.target_list) - set(TARGETS + OTHER_TARGETS)
    if unknown:
        parser.error(f"unknown target(s): {', '.join(sorted(unknown))}")
    args.levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report:
        results = json.loads(args.report.read_text())
        results["targets"] = report.evaluate(results)
        table = report.markdown(results)
        print(table)
        if not args.no_readme:
            report.update_readme(table)
        return 0
    started = datetime.now(UTC)
    fleets: dict[int, list[Agent]] = {}
    largest = max(args.agents, args.ref_agents)
    for level in args.levels:
        _log(f"building {largest} agents for c={level}")
        fleets[level] = make_fleet(largest, f"bench-c{level}")

    # Every target is up for the whole run and the levels are interleaved (OCS c=1, Ocelot
    # c=1, ..., OCS c=8, ...): each ratio compares figures taken minutes apart, not tens.
    scenarios: list[dict[str, Any]] = []
    versions: dict[str, dict[str, str]] = {}
    targets: list[tuple[OcelotTarget | OcsReference, int]] = []
    try:
        for name in args.target_list:
            target: OcelotTarget | OcsReference
            if name == "ocs":
                target = OcsReference(keep_running=args.keep_reference)
                count = args.ref_agents
            else:
                _, backend, *engine = name.split("-")
                target = OcelotTarget(
                    backend,
                    workers=args.workers,
                    threads=args.threads,
                    settings=args.settings,
                    engine=engine[0] if engine else None,
                )
                count = args.agents
            _log(f"starting {target.name}")
            targets.append((target, count))
            target.open()
            versions[target.name] = target.versions()
        for level in args.levels:
            for target, count in targets:
                scenarios.append(run_scenario(target, fleets[level][:count], level, args))
    finally:
        for target, _ in targets:
            target.close()
    scenarios.sort(key=lambda s: (args.target_list.index(_target_key(s["target"])), s["concurrency"]))

    finished = datetime.now(UTC)
    results = {
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "duration_s": round((finished - started).total_seconds(), 1),
        "machine": report.machine_info(),
        "versions": versions,
        "config": {
            "agents": args.agents,
            "ref_agents": args.ref_agents,
            "levels": args.levels,
            "min_prologs": args.min_prologs,
            "workers": args.workers,
            "threads": args.threads,
            # What "default" meant in this run (results written before it say 8).
            "threads_default": DEFAULT_THREADS,
            "ocelot_settings": args.settings,
            "targets": args.target_list,
        },
        "scenarios": scenarios,
    }
    results["targets"] = report.evaluate(results)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    path = args.results_dir / f"bench-{stamp}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    (args.results_dir / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    table = report.markdown(results)
    print()
    print(table)
    if not args.no_readme:
        report.update_readme(table)
    _log(f"results written to {path}")
    return 0 if all(t["ok"] for t in results["targets"] if t["ok"] is not None) else 1


if __name__ == "__main__":
    sys.exit(main())
