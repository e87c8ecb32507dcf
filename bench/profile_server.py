"""Sample a running ``ocelot server`` under the benchmark's load with py-spy.

    pip install --target /tmp/pyspy py-spy          # once, outside the project's venv
    .venv/bin/python -m bench.profile_server --py-spy /tmp/pyspy/bin/py-spy \\
        --backend sqlite --phase inventory_first --concurrency 8 --agents 120

Starts the server like ``bench.agents`` does, runs the phases before ``--phase`` unsampled,
then samples the agent listener's workers (``py-spy record --subprocesses --gil``) while
``--phase`` runs, and prints where the workers spent the samples: by function (own time)
and by Ocelot/Django frame (inclusive).
"""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.load import run_phase
from bench.payload import make_fleet
from bench.targets import OcelotTarget

PHASES = ("prolog_new", "inventory_first", "prolog_known", "inventory_again")


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out.extend(int(p) for p in text)
    return out


def _http_arbiter(server_pid: int, port: int) -> int:
    for child in _children(server_pid):
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        tls = b"--certfile" in cmdline or b"--ssl-certificate" in cmdline
        # gunicorn: --bind 127.0.0.1:PORT; granian: --host 127.0.0.1 --port PORT.
        bound = f"127.0.0.1:{port}".encode() in cmdline or str(port).encode() in cmdline
        if bound and not tls:
            return child
    raise RuntimeError("cannot find the HTTP listener's main process")


def _function(frame: str) -> str:
    """``name (path/file.py:123)`` without the line number, so a function counts once."""
    return re.sub(r":\d+\)$", ")", frame)


def _report(raw: Path, top: int) -> None:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if not f.startswith("process ") and not f.startswith("thread ")]
        if not frames:
            continue
        total += count
        own[_function(frames[-1])] += count
        for frame in {_function(f) for f in frames}:
            if frame.count("ocelot/") or "django/db/" in frame or "django/core/handlers" in frame:
                inclusive[frame] += count
    print(f"\n{total} samples holding the GIL")
    print("-- own time --")
    for frame, count in own.most_common(top):
        print(f"  {count / total * 100:5.1f}%  {frame}")
    print("-- inclusive (ocelot, django handlers and ORM) --")
    for frame, count in inclusive.most_common(top):
        print(f"  {count / total * 100:5.1f}%  {frame}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_server", description=__doc__)
    parser.add_argument("--py-spy", required=True, help="path of the py-spy binary")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--phase", choices=PHASES, default="inventory_first")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--agents", type=int, default=120)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)

    fleet = make_fleet(args.agents, "spy")
    jobs = {
        "prolog_new": [(a.index, a.prolog) for a in fleet],
        "inventory_first": [(a.index, a.first) for a in fleet],
        "prolog_known": [(a.index, a.prolog) for _ in range(5) for a in fleet],
        "inventory_again": [(a.index, a.again) for a in fleet],
    }
    target = OcelotTarget(args.backend)
    target.open()
    try:
        url = target.start_scenario("spy")
        assert target.process is not None
        port = int(url.split(":")[2].split("/")[0])
        arbiter = _http_arbiter(target.process.pid, port)
        for phase in PHASES:
            kind = phase.split("_")[0]
            if phase != args.phase:
                run_phase(url, kind, jobs[phase], args.concurrency)
                continue
            raw = Path(tempfile.mkstemp(prefix="ocelot-spy-", suffix=".txt")[1])
            spy = subprocess.Popen(
                [
                    args.py_spy,
                    "record",
                    "--pid",
                    str(arbiter),
                    "--subprocesses",
                    "--gil",
                    "--nonblocking",
                    "--format",
                    "raw",
                    "--rate",
                    "200",
                    "--output",
                    str(raw),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1.5)
            result = run_phase(url, kind, jobs[phase], args.concurrency)
            spy.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
            spy.wait(timeout=60)
            summary = result.summary()
            print(
                f"{phase} c={args.concurrency}: {summary['ok']}/{summary['requests']} ok, "
                f"{summary['rate_per_s']}/s, p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms"
            )
            _report(raw, args.top)
            break
    finally:
        target.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
