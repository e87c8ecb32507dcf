"""Targets, machine information and the Markdown figures written into bench/README.md."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent / "README.md"
START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"
REFERENCE = "ocs-2.8.1"
OCELOT = ("ocelot-postgresql", "ocelot-sqlite", "ocelot-postgresql-gunicorn", "ocelot-sqlite-gunicorn")
PHASES = (
    ("prolog_new", "PROLOG new"),
    ("inventory_first", "1st INVENTORY"),
    ("prolog_known", "PROLOG known"),
    ("inventory_again", "re-INVENTORY"),
)


def _run(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=False, timeout=10).stdout.strip()
    except OSError:
        return ""


def machine_info() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    repo = Path(__file__).resolve().parent.parent
    commit = _run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"])
    dirty = _run(["git", "-C", str(repo), "status", "--porcelain", "--", "src"])
    packages = {}
    for name in ("ocelot-inventory", "Django", "granian", "gunicorn", "psycopg"):
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = ""
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "kernel": platform.release(),
        "os": _run(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "python": platform.python_version(),
        "packages": packages,
        "ocelot_commit": commit + ("+uncommitted src changes" if dirty else ""),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _scenario(results: dict[str, Any], target: str, level: int) -> dict[str, Any] | None:
    for scenario in results["scenarios"]:
        if scenario["target"] == target and scenario["concurrency"] == level:
            return scenario
    return None


def _phase(results: dict[str, Any], target: str, level: int, phase: str) -> dict[str, Any] | None:
    scenario = _scenario(results, target, level)
    return scenario["phases"].get(phase) if scenario else None


def _ratio(results: dict[str, Any], target: str, level: int, phase: str) -> float | None:
    ours = _phase(results, target, level, phase)
    ref = _phase(results, REFERENCE, level, phase)
    if not ours or not ref or not ref["rate_per_s"]:
        return None
    return ours["rate_per_s"] / ref["rate_per_s"]


def _stored_rate(phase: dict[str, Any]) -> float:
    """Inventories per second that the database actually kept."""
    if not phase.get("acknowledged"):
        return 0.0
    return phase["rate_per_s"] * phase["stored"] / phase["acknowledged"]


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets; ``ok`` is None when this run lacks the data to decide."""
    targets: list[dict[str, Any]] = []
    for target, factor in (("ocelot-postgresql", 10), ("ocelot-sqlite", 5)):
        ratio = _ratio(results, target, 8, "inventory_first")
        ours = _phase(results, target, 8, "inventory_first")
        ref = _phase(results, REFERENCE, 8, "inventory_first")
        detail = "not measured in this run"
        if ours and ref and ratio is not None:
            detail = f"{ours['rate_per_s']:.2f}/s vs reference {ref['rate_per_s']:.2f}/s = {ratio:.1f}x"
            stored_ref = _stored_rate(ref)
            if stored_ref:
                detail += (
                    f" (counting only what was stored: {_stored_rate(ours):.2f}/s vs {stored_ref:.2f}/s"
                    f" = {_stored_rate(ours) / stored_ref:.1f}x)"
                )
        targets.append(
            {
                "name": f"c=8 first inventories/s on {target} >= {factor}x the reference",
                "ok": None if ratio is None else ratio >= factor,
                "detail": detail,
            }
        )
    for target in OCELOT:
        lost = []
        measured = False
        for scenario in results["scenarios"]:
            if scenario["target"] != target:
                continue
            for phase in ("inventory_first", "inventory_again"):
                summary = scenario["phases"].get(phase)
                if not summary:
                    continue
                measured = True
                if summary["lost"]:
                    lost.append(f"c={scenario['concurrency']} {phase}: {summary['lost']} lost")
        targets.append(
            {
                "name": f"every acknowledged inventory stored on {target}, every concurrency",
                "ok": None if not measured else not lost,
                "detail": "; ".join(lost) if lost else ("all stored" if measured else "not measured"),
            }
        )
    for target in OCELOT:
        ratio = _ratio(results, target, 32, "prolog_known")
        ours = _phase(results, target, 32, "prolog_known")
        ref = _phase(results, REFERENCE, 32, "prolog_known")
        if ours is None or ref is None or ratio is None:
            targets.append(
                {
                    "name": f"c=32 PROLOG on {target}: >= 2x and p99 < 50 ms",
                    "ok": None,
                    "detail": "not measured",
                }
            )
            continue
        targets.append(
            {
                "name": f"c=32 PROLOG on {target}: >= 2x the reference and p99 < 50 ms",
                "ok": ratio >= 2 and ours["p99_ms"] < 50,
                "detail": (
                    f"{ours['rate_per_s']:.0f}/s vs reference {ref['rate_per_s']:.0f}/s = {ratio:.1f}x, "
                    f"p99 {ours['p99_ms']:.1f} ms"
                ),
            }
        )
    return targets


def _verdict(ok: bool | None) -> str:
    return "n/a " if ok is None else ("PASS" if ok else "FAIL")


def _fmt_rate(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    out = [
        f"Run of {machine['date']}: {machine['nproc']} cores ({machine['cpu']}), {machine['memory']}, "
        f"{machine['os']}, kernel {machine['kernel']}, Python {machine['python']}; "
        f"Ocelot {machine['ocelot_commit']} "
        + ", ".join(f"{k} {v}" for k, v in machine["packages"].items() if k != "ocelot-inventory" and v)
        + ".",
        "",
    ]
    versions = results.get("versions", {})
    if versions:
        out.append(
            "Servers: "
            + "; ".join(
                f"{name}: " + ", ".join(f"{k} {v}" for k, v in items.items() if v)
                for name, items in versions.items()
            )
            + "."
        )
        out.append("")
    config = results["config"]
    workers = config.get("workers") or "default (one per core)"
    threads = config.get("threads") or f"default ({config.get('threads_default', 8)})"
    out.append(
        f"Agents per level: {config['agents']} for Ocelot, {config['ref_agents']} for OCS; "
        f"at least {config['min_prologs']} known-computer PROLOGs per level; "
        f"Ocelot workers {workers}, threads {threads}; run took {results['duration_s']:.0f} s."
    )
    if config.get("ocelot_settings"):
        changed = ", ".join(f"{k}={v}" for k, v in config["ocelot_settings"].items())
        out.append("")
        out.append(f"**Ocelot ran with non-default settings: {changed}.**")
    out.append("")
    out.append(
        "| server | c | agents | PROLOG new/s | PROLOG known/s (p50 / p99 ms) "
        "| 1st INV/s (p50 / p99 ms) | re-INV/s (p50 / p99 ms) "
        "| 1st stored / acked | re stored / acked | errors | server / other CPU |"
    )
    out.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for scenario in results["scenarios"]:
        phases = scenario["phases"]

        def cell(name: str, *, latency: bool = True, phases: dict[str, Any] = phases) -> str:
            p = phases.get(name)
            if not p:
                return "-"
            text = _fmt_rate(p["rate_per_s"])
            if latency:
                text += f" ({p['p50_ms']:.0f} / {p['p99_ms']:.0f})"
            return text

        def stored(name: str, phases: dict[str, Any] = phases) -> str:
            p = phases.get(name)
            if not p or "stored" not in p:
                return "-"
            text = f"{p['stored']} / {p['acknowledged']}"
            if p.get("innodb_deadlocks"):
                text += f" ({p['innodb_deadlocks']} deadlocks)"
            return text

        first = phases.get("inventory_first", {}).get("cpu")
        other = max((p["cpu"]["other_cores"] for p in phases.values() if "cpu" in p), default=0.0)
        cpu = f"{first['server_cores']:.1f} / {other:.1f}" if first else "-"
        errors = sum(p["errors"] for p in phases.values())
        kinds: dict[str, int] = {}
        for p in phases.values():
            for kind, count in p["error_kinds"].items():
                kinds[kind] = kinds.get(kind, 0) + count
        error_text = str(errors) + (
            " (" + ", ".join(f"{k} {v}" for k, v in kinds.items()) + ")" if kinds else ""
        )
        out.append(
            f"| {scenario['target']} | {scenario['concurrency']} | {scenario['agents']} "
            f"| {cell('prolog_new', latency=False)} | {cell('prolog_known')} "
            f"| {cell('inventory_first')} | {cell('inventory_again')} "
            f"| {stored('inventory_first')} | {stored('inventory_again')} | {error_text} | {cpu} |"
        )
    out.append("")
    levels = results["config"]["levels"]
    if any(s["target"] == REFERENCE for s in results["scenarios"]):
        out.append("Ratios to the reference measured in the same run (rate / rate):")
        out.append("")
        out.append("| server | c | " + " | ".join(label for _, label in PHASES) + " |")
        out.append("|---|--:|--:|--:|--:|--:|")
        for target in OCELOT:
            for level in levels:
                if not _scenario(results, target, level):
                    continue
                cells = []
                for phase, _ in PHASES:
                    ratio = _ratio(results, target, level, phase)
                    cells.append("-" if ratio is None else f"{ratio:.1f}x")
                out.append(f"| {target} | {level} | " + " | ".join(cells) + " |")
        out.append("")
    out.append(
        "Server CPU per successful request, in ms (server processes and their database together; "
        "unlike the rates, hardly affected by other work on the machine):"
    )
    out.append("")
    out.append("| server | c | " + " | ".join(label for _, label in PHASES) + " |")
    out.append("|---|--:|--:|--:|--:|--:|")
    for scenario in results["scenarios"]:
        cells = []
        for phase, _ in PHASES:
            value = scenario["phases"].get(phase, {}).get("server_cpu_ms_per_request")
            cells.append("-" if value is None else f"{value:.1f}")
        out.append(f"| {scenario['target']} | {scenario['concurrency']} | " + " | ".join(cells) + " |")
    out.append("")
    out.append("Targets:")
    out.append("")
    out.extend(f"    {_verdict(t['ok'])}  {t['name']}: {t['detail']}" for t in results["targets"])
    return "\n".join(out) + "\n"


def replace_block(start: str, end: str, content: str, *, heading: str = "") -> None:
    """Put ``content`` between the markers ``start`` and ``end`` of bench/README.md, in
    place of what is there, or at the end (after ``heading``) when the markers are absent."""
    block = f"{start}\n{content}{end}"
    text = README.read_text() if README.exists() else ""
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + heading + block + "\n"
    README.write_text(text)


def update_readme(table: str) -> None:
    """Replace the figures between the markers of bench/README.md (append them if absent)."""
    replace_block(START, END, table, heading="## Latest figures\n\n")
