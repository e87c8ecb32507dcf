"""Agent benchmarks of issue 5, each against a reference measured in the same run.

* ``inventory``: a full inventory of this machine, ``ocelot agent --local DIR`` against
  Debian's ``ocsinventory-agent --local DIR`` (the real Unix agent 2.10), alternating,
  ``--rounds`` each, every run into a fresh directory. Wall time, and peak memory two ways:
  the largest resident set of any process of the run (``wait4``'s ``ru_maxrss``: the agent
  and every child it waited for, dmidecode, dpkg-query, lspci...), and the peak of the sum
  of the resident sets of the whole process tree, sampled every 5 ms from /proc. Targets:
  faster, and at most half its memory (both figures reported; the verdict is on the first).
* ``deploy``: a 200 MiB tar.gz in 20 fragments, no latencies (FRAG/CYCLE/PERIOD 0),
  built, activated and assigned with the ``ocelot`` CLI on ``ocelot server`` (SQLite, the
  way bench/targets.py starts it, DOWNLOAD=1 through ``ocelot settings set``), against
  ``curl`` fetching the same 20 fragments one after the other (one curl process, one
  connection, files written to disk) from the same server. The agent's time runs from its
  start to its exit, the result reported (the status is read back: SUCCESS). Each round uses a
  fresh agent state directory (a new computer, first contact unmeasured with ``--nosoft``,
  then assigned). Target: within 1.5x of curl. Also, each round: the agent's CPU time
  (user + system, children included: what a loaded machine inflates least), and the floor
  the protocol sets, one MD5 pass (the OCS DIGEST) and one SHA-256 pass (what checking
  every fragment's SHA-256 costs) with hashlib over the same archive, page cache warm.

    .venv/bin/python -m bench.agent_run [--only inventory,deploy] [--rounds 5]

Run as root (the real agent reads dmidecode as root; so does ours). Figures go to
``bench/results/agent-*.json`` and between the ``bench:agent`` markers of bench/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import sqlite3
import ssl
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.report import machine_info, replace_block
from bench.targets import descendants, free_port, wait_http

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
START = "<!-- bench:agent:start -->"
END = "<!-- bench:agent:end -->"
MIB = 1024 * 1024
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def _log(message: str) -> None:
    print(f"[bench-agent {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _ocelot() -> str:
    exe = REPO / ".venv" / "bin" / "ocelot"
    return str(exe) if exe.exists() else (shutil.which("ocelot") or "ocelot")


def _tree_rss_kib(pid: int) -> int:
    total = 0
    for child in descendants(pid):
        try:
            total += int(Path(f"/proc/{child}/statm").read_text().split()[1]) * PAGE_KIB
        except (OSError, IndexError, ValueError):
            continue
    return total


def measured(command: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Run ``command`` to completion: wall seconds, max single-process RSS and sampled tree RSS (KiB)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kib(process.pid))
            done.wait(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed ({process.returncode}): {errors[-2000:]!r}")
    return {
        "wall_s": elapsed,
        "max_rss_kib": float(usage.ru_maxrss),
        "tree_rss_kib": float(peak),
        # CPU of the process and the children it waited for: what a loaded machine inflates least.
        "cpu_s": usage.ru_utime + usage.ru_stime,
    }


# -- inventory ----------------------------------------------------------------------------


def bench_inventory(rounds: int) -> dict[str, Any]:
    real = shutil.which("ocsinventory-agent")
    if not real:
        raise RuntimeError("ocsinventory-agent is missing: make deps (Debian package ocsinventory-agent)")
    work = Path(tempfile.mkdtemp(prefix="ocelot-bench-agent-inv-"))
    commands = {
        "ocelot": lambda out: [
            _ocelot(),
            "agent",
            "--local",
            str(out),
            "--basevardir",
            str(work / "var-ocelot"),
        ],
        "ocsinventory-agent": lambda out: [real, "--local", str(out), "--basevardir", str(work / "var-ocs")],
    }
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in commands}
    sizes: dict[str, int] = {}
    try:
        for name, command in commands.items():  # unmeasured warm-up: page cache, first-run state
            out = work / f"warm-{name}"
            out.mkdir()
            measured(command(out))
        for number in range(rounds):
            order = list(commands) if number % 2 == 0 else list(reversed(commands))
            for name in order:
                out = work / f"{name}-{number}"
                out.mkdir()
                figures = measured(commands[name](out))
                (written,) = out.glob("*.ocs")
                sizes[name] = written.stat().st_size
                samples[name].append(figures)
                _log(
                    f"inventory round {number + 1} {name}: {figures['wall_s']:.2f} s, "
                    f"max RSS {figures['max_rss_kib'] / 1024:.1f} MiB, "
                    f"tree {figures['tree_rss_kib'] / 1024:.1f} MiB"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def median(name: str, key: str) -> float:
        return statistics.median(sample[key] for sample in samples[name])

    result: dict[str, Any] = {"rounds": rounds, "samples": samples, "ocs_file_bytes": sizes}
    for name in commands:
        result[name] = {key: median(name, key) for key in ("wall_s", "max_rss_kib", "tree_rss_kib")}
    ours, theirs = result["ocelot"], result["ocsinventory-agent"]
    result["speedup"] = theirs["wall_s"] / ours["wall_s"]
    result["memory_ratio"] = ours["max_rss_kib"] / theirs["max_rss_kib"]
    result["tree_memory_ratio"] = ours["tree_rss_kib"] / theirs["tree_rss_kib"]
    return result


# -- deploy -------------------------------------------------------------------------------


class Server:
    """``ocelot server`` on SQLite in a home of its own, as bench/targets.py OcelotTarget starts it."""

    def __init__(self, settings: dict[str, str]) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="ocelot-bench-agent-server-"))
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("OCELOT_")}
        self.env["OCELOT_HOME"] = str(self.home)
        # Fragments from the HTTP listener, as activated below; no fragment listener on the
        # default port 8081, which another server on this machine may hold.
        self.env["OCELOT_FRAGMENTS"] = ""
        self.http_port, self.https_port = free_port(), free_port()
        with (self.home / "server.log").open("wb") as log:
            subprocess.run([_ocelot(), "init"], env=self.env, stdout=log, stderr=log, check=True)
            for name, value in settings.items():
                self.ocelot("settings", "set", name, value)
            self.process = subprocess.Popen(
                [
                    _ocelot(),
                    "server",
                    "--http",
                    f"127.0.0.1:{self.http_port}",
                    "--https",
                    f"127.0.0.1:{self.https_port}",
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.home,
            )
        self.url = f"http://127.0.0.1:{self.http_port}/ocsinventory"
        if not wait_http(self.url, deadline=180):
            raise RuntimeError(
                f"ocelot server did not start: {(self.home / 'server.log').read_text()[-3000:]}"
            )

    def ocelot(self, *args: str) -> Any:
        done = subprocess.run([_ocelot(), *args], env=self.env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"ocelot {' '.join(args[:3])} failed: {done.stderr[-2000:]}")
        return json.loads(done.stdout) if "--json" in args else done.stdout

    def computer_id(self, device_id: str) -> str:
        """The computer's id, read from the server's SQLite database (there is no CLI verb for it)."""
        with sqlite3.connect(f"file:{self.home / 'ocelot.sqlite3'}?mode=ro", uri=True, timeout=30) as db:
            (row,) = db.execute(
                "SELECT id FROM inventory_computer WHERE device_id = ?", (device_id,)
            ).fetchall()
        return str(row[0])

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.home, ignore_errors=True)


def _random_tar_gz(path: Path, size: int) -> None:
    """A tar.gz holding one member of ``size`` random bytes (gzip level 1: random data does not shrink)."""
    payload = path.with_name("payload.bin")
    with payload.open("wb") as handle:
        left = size
        while left:
            chunk = os.urandom(min(16 * MIB, left))
            handle.write(chunk)
            left -= len(chunk)
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        tar.add(payload, arcname="payload.bin")
    payload.unlink()


def _device_id(basevardir: Path) -> str:
    (vardir,) = basevardir.iterdir()
    text = (vardir / "ocsinv.conf").read_text()
    return text.split("<DEVICEID>", 1)[1].split("</DEVICEID>", 1)[0]


_FRAGMENT_STORED = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) .*: fragment (\d+)/(\d+)$", re.M)


_STAMP = r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) "
_INSTALLED = re.compile(_STAMP + r".*: package \d+: SUCCESS$", re.M)


def _seconds(day: str, ms: str) -> float:
    return time.mktime(time.strptime(day, "%Y-%m-%d %H:%M:%S")) + int(ms) / 1000


def _install_phase(log: str) -> float:
    """Seconds from the last fragment stored to SUCCESS: whole-archive digests, extraction, STORE."""
    last = _FRAGMENT_STORED.findall(log)[-1]
    (done,) = _INSTALLED.findall(log)
    return _seconds(*done) - _seconds(last[0], last[1])


def _download_phase(log: str, fragments: int) -> float:
    """Seconds the fragments took, from the agent's --debug log: the engine logs each one once
    stored (fsynced, SHA-256 checked), so (last - first) x N / (N - 1) estimates the phase."""
    stamps = [_seconds(day, ms) for day, ms, _, _ in _FRAGMENT_STORED.findall(log)]
    if len(stamps) != fragments or fragments < 2:
        raise RuntimeError(f"expected {fragments} stored fragments in the agent's log, found {len(stamps)}")
    return (stamps[-1] - stamps[0]) * fragments / (fragments - 1)


def _digest_pass(path: Path, algorithm: str) -> float:
    """Seconds of one pass of ``algorithm`` over ``path`` (1 MiB reads, as the agent does)."""
    started = time.perf_counter()
    digest = hashlib.new(algorithm)
    with path.open("rb", buffering=0) as handle:
        block = bytearray(MIB)
        while count := handle.readinto(block):
            digest.update(memoryview(block)[:count])
    return time.perf_counter() - started


def command_line(command: list[str]) -> str:
    return " ".join(shlex.quote(part) for part in command)


def bench_deploy(rounds: int, size_mib: int, fragments: int) -> dict[str, Any]:
    curl = shutil.which("curl")
    if not curl:
        raise RuntimeError("curl is missing: apt-get install curl")
    work = Path(tempfile.mkdtemp(prefix="ocelot-bench-agent-deploy-"))
    settings = {
        "DOWNLOAD": "1",
        "DOWNLOAD_FRAG_LATENCY": "0",
        "DOWNLOAD_CYCLE_LATENCY": "0",
        "DOWNLOAD_PERIOD_LATENCY": "0",
    }
    server = Server(settings)
    try:
        archive = work / "big.tar.gz"
        _log(f"deploy: writing a {size_mib} MiB tar.gz")
        _random_tar_gz(archive, size_mib * MIB)
        size = archive.stat().st_size
        target = work / "installed"
        record = server.ocelot(
            *("package", "build", "--name", "bench-200", "--os", "linux", "--action", "STORE"),
            *("--path", str(target), "--fragments", str(fragments), "--file", str(archive), "--json"),
        )
        package_id = str(record["id"])
        server.ocelot(
            *("package", "activate", package_id),
            *("--info-location", f"127.0.0.1:{server.https_port}/download"),
            *("--fragment-location", f"127.0.0.1:{server.http_port}/download"),
            "--json",
        )
        urls = [
            f"http://127.0.0.1:{server.http_port}/download/{package_id}/{package_id}-{n}"
            for n in range(1, fragments + 1)
        ]
        cacert = server.home / "public" / "cacert.pem"
        # Warm-up, unmeasured: the server's HTTPS workers load the application at their first
        # request (measured: the first info fetches took 2.4 s and 3.7 s, then 4 ms).
        context = ssl.create_default_context(cafile=str(cacert))
        for _ in range(8):
            info_url = f"https://127.0.0.1:{server.https_port}/download/{package_id}/info"
            with urllib.request.urlopen(info_url, context=context, timeout=60) as answer:
                answer.read()
        samples: dict[str, list[dict[str, float]]] = {"agent": [], "curl": [], "tools": [], "floor": []}
        for number in range(rounds):
            # The floor the protocol sets: one pass of the OCS DIGEST (MD5) over the archive,
            # and one SHA-256 pass (what checking every fragment's SHA-256 costs), page cache warm.
            samples["floor"].append(
                {algorithm: _digest_pass(archive, algorithm) for algorithm in ("md5", "sha256")}
            )
            # curl: the same fragments, sequentially, one connection, written to disk.
            fetched = work / f"curl-{number}"
            fetched.mkdir()
            command = [curl, "-sS", "--fail"]
            for n, url in enumerate(urls, start=1):
                command += ["-o", str(fetched / f"{n}"), url]
            curl_figures = measured(command)
            got = sum(path.stat().st_size for path in fetched.iterdir())
            if got != size:
                raise RuntimeError(f"curl fetched {got} bytes, the package is {size}")
            shutil.rmtree(fetched)
            # The same work as the agent with standard tools, one after the other: curl, then
            # sha256sum of each fragment, md5sum of the whole, tar xzf (STORE).
            fetched.mkdir()
            names = " ".join(str(fetched / f"{n}") for n in range(1, fragments + 1))
            script = (
                f"set -e; {command_line(command)}; sha256sum {names} >/dev/null; "
                f"cat {names} | md5sum >/dev/null; "
                f"mkdir {fetched}/out; cat {names} | tar xzf - -C {fetched}/out; sync -f {fetched}/out"
            )
            tools_figures = measured(["sh", "-c", script])
            if (fetched / "out" / "payload.bin").stat().st_size != size_mib * MIB:
                raise RuntimeError("the tools' extraction has the wrong size")
            shutil.rmtree(fetched)
            # The agent: a new computer (first contact unmeasured), assigned, then the timed run.
            basevardir = work / f"agent-{number}"
            agent = [
                _ocelot(),
                "agent",
                "--server",
                server.url,
                "--basevardir",
                str(basevardir),
                "--ca",
                str(cacert),
            ]
            measured([*agent, "--nosoft"])
            computer_id = server.computer_id(_device_id(basevardir))
            server.ocelot("package", "assign", package_id, "--computer", computer_id, "--json")
            log = work / f"agent-{number}.log"
            agent_figures = measured([*agent, "--nosoft", "--debug", "--logfile", str(log)])
            text = log.read_text(errors="replace")
            agent_figures["download_s"] = _download_phase(text, fragments)
            agent_figures["install_s"] = _install_phase(text)
            stats = server.ocelot("package", "stats", package_id, "--json")
            if "SUCCESS" not in json.dumps(stats):
                raise RuntimeError(f"round {number + 1}: no SUCCESS reported: {stats}")
            if (target / "payload.bin").stat().st_size != size_mib * MIB:
                raise RuntimeError("the stored payload has the wrong size")
            shutil.rmtree(target)
            shutil.rmtree(basevardir)
            samples["agent"].append(agent_figures)
            samples["curl"].append(curl_figures)
            samples["tools"].append(tools_figures)
            floor = samples["floor"][-1]
            _log(
                f"deploy round {number + 1}: agent {agent_figures['wall_s']:.2f} s, "
                f"CPU {agent_figures['cpu_s']:.2f} s "
                f"(fragments {agent_figures['download_s']:.2f} s, "
                f"install {agent_figures['install_s']:.2f} s), "
                f"curl {curl_figures['wall_s']:.2f} s, MD5 pass {floor['md5']:.2f} s, "
                f"SHA-256 pass {floor['sha256']:.2f} s"
            )
    finally:
        server.close()
        shutil.rmtree(work, ignore_errors=True)
    agent_s = statistics.median(sample["wall_s"] for sample in samples["agent"])
    curl_s = statistics.median(sample["wall_s"] for sample in samples["curl"])
    download_s = statistics.median(sample["download_s"] for sample in samples["agent"])
    tools_s = statistics.median(sample["wall_s"] for sample in samples["tools"])
    return {
        "rounds": rounds,
        "archive_bytes": size,
        "fragments": fragments,
        "samples": samples,
        "agent_s": agent_s,
        "curl_s": curl_s,
        "ratio": agent_s / curl_s,
        "download_s": download_s,
        "download_ratio": download_s / curl_s,
        "tools_s": tools_s,
        "tools_ratio": agent_s / tools_s,
        "install_s": statistics.median(sample["install_s"] for sample in samples["agent"]),
        "agent_cpu_s": statistics.median(sample["cpu_s"] for sample in samples["agent"]),
        "curl_cpu_s": statistics.median(sample["cpu_s"] for sample in samples["curl"]),
        "md5_s": statistics.median(sample["md5"] for sample in samples["floor"]),
        "sha256_s": statistics.median(sample["sha256"] for sample in samples["floor"]),
        "target": 1.5,
    }


# -- report -------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    out = [
        "## Agent (issue 5)",
        "",
        f"Run of {machine['date']} (commit {results['commit']}): {machine['nproc']} cores, "
        "`python -m bench.agent_run` (medians).",
        "",
        "| benchmark | Ocelot | reference, same run | ratio | target |",
        "|---|--:|--:|--:|---|",
    ]
    inventory = results.get("inventory")
    if inventory:
        ours, theirs = inventory["ocelot"], inventory["ocsinventory-agent"]
        out.append(
            f"| full inventory `--local`, wall time ({inventory['rounds']} rounds, alternating) "
            f"| {ours['wall_s']:.2f} s | ocsinventory-agent {theirs['wall_s']:.2f} s "
            f"| {inventory['speedup']:.1f}x faster | faster {_verdict(inventory['speedup'] > 1)} |"
        )
        out.append(
            f"| same, peak RSS of the largest process (agent or child) "
            f"| {ours['max_rss_kib'] / 1024:.1f} MiB | {theirs['max_rss_kib'] / 1024:.1f} MiB "
            f"| {inventory['memory_ratio']:.2f}x | ≤ 0.5x {_verdict(inventory['memory_ratio'] <= 0.5)} |"
        )
        out.append(
            f"| same, peak RSS of the whole process tree (sampled every 5 ms) "
            f"| {ours['tree_rss_kib'] / 1024:.1f} MiB | {theirs['tree_rss_kib'] / 1024:.1f} MiB "
            f"| {inventory['tree_memory_ratio']:.2f}x "
            f"| ≤ 0.5x {_verdict(inventory['tree_memory_ratio'] <= 0.5)} |"
        )
    deploy = results.get("deploy")
    if deploy:
        out.append(
            f"| deploy {deploy['archive_bytes'] / MIB:.0f} MiB in {deploy['fragments']} fragments, "
            "latencies 0 "
            f"({deploy['rounds']} rounds; agent start to exit, result reported) | {deploy['agent_s']:.2f} s "
            f"| curl, same fragments in sequence {deploy['curl_s']:.2f} s "
            f"| {deploy['ratio']:.2f}x | ≤ 1.5x {_verdict(deploy['ratio'] <= 1.5)} |"
        )
    if deploy:
        out.append(
            f"| same, the fragments only (agent's log: {deploy['fragments']} fetched; as they arrive, "
            f"each one's SHA-256 and the archive's MD5) | {deploy['download_s']:.2f} s "
            f"| curl {deploy['curl_s']:.2f} s "
            f"| {deploy['download_ratio']:.2f}x | ≤ 1.5x {_verdict(deploy['download_ratio'] <= 1.5)} |"
        )
    if deploy and "tools_s" in deploy:
        out.append(
            f"| same, end to end | {deploy['agent_s']:.2f} s | the same work with standard tools: curl, "
            f"sha256sum of each fragment, md5sum of the archive, tar xzf, sync "
            f"{deploy['tools_s']:.2f} s | {deploy['tools_ratio']:.2f}x | (information) |"
        )
    if deploy:
        out.append(
            f"| same, last fragment to SUCCESS (digests compared, extraction, STORE) "
            f"| {deploy['install_s']:.2f} s | curl: none | | |"
        )
    if deploy and "agent_cpu_s" in deploy:
        out.append(
            f"| same, CPU time of the agent (user + system, with its children) "
            f"| {deploy['agent_cpu_s']:.2f} s | curl {deploy['curl_cpu_s']:.2f} s "
            f"| {deploy['agent_cpu_s'] / deploy['curl_cpu_s']:.2f}x | (information) |"
        )
    if deploy and "md5_s" in deploy:
        for name, key in (("MD5 (the OCS DIGEST)", "md5_s"), ("SHA-256", "sha256_s")):
            out.append(
                f"| floor: one {name} pass over the same {deploy['archive_bytes'] / MIB:.0f} MiB, "
                f"page cache warm (hashlib, 1 MiB reads) | {deploy[key]:.2f} s "
                f"| curl {deploy['curl_s']:.2f} s "
                f"| {deploy[key] / deploy['curl_s']:.2f}x | (information) |"
            )
    out += [
        "",
        "The real agent is Debian's `ocsinventory-agent` 2.10; both write the same `.ocs` (a few "
        "hundred KiB with every package). The deployment run also holds a PROLOG and a `--nosoft` "
        "inventory (the server asks for one at every contact), the info file over HTTPS, the MD5 of the "
        "whole archive (the OCS DIGEST) and the SHA-256 of each fragment (they imply the whole "
        "archive's SHA-256), the tar.gz extraction (STORE) and the result's report; curl only fetches. "
        "The floor rows time hashlib alone over the archive in the benchmark's process, each round: no "
        "agent checks the OCS DIGEST in less than the MD5 pass, and one that checks every fragment's "
        "SHA-256 spends a SHA-256 pass of CPU besides (2 cores: side by side at best). The server is "
        "warmed up first (8 info fetches over HTTPS). The machine is shared: look at the samples in "
        "`bench/results/agent-*.json` before reading much into a single run.",
        "",
        "What the deployment does since 2026-11-22 04:00 (commits 035a524, 87d92a8): each fragment's "
        "SHA-256 and the archive's MD5 are computed in two worker threads on the bytes as they arrive "
        "(1 MiB blocks read with `readinto`), so the install only compares digests; no whole-archive "
        "SHA-256 when every fragment's is listed; no fsync of fragments that have a SHA-256 (the next "
        "run checks them again before trusting them); the tar.gz is extracted in one pass (it was "
        "inflated twice: a check pass, then the extraction); STORE moves the files instead of copying "
        "them. Paired runs, old (a8e1bb4) and new code alternated on a machine loaded by other work "
        "(load average 5-9; `agent-20261122-0350*` to `-0423*`, 5 runs each): the agent's CPU time went "
        "from 2.95-4.35 s (median 3.31 s, 13 rounds) to 1.98-3.30 s (median 2.32 s, 13 rounds); last "
        "fragment to SUCCESS, medians per run, from 1.97-8.12 s to 0.63-3.03 s; the fragments phase grew "
        "(old 1.46-3.67 s, new 1.53-3.76 s: the MD5 moved into it); wall times followed the load "
        "(medians per run: old 4.70-14.55 s, new 2.73-7.42 s; quiet, before: 2.98 s). The target is out of "
        "reach of any agent that checks the OCS DIGEST: the MD5 pass alone took a median 2.3x "
        "curl's fetch of the same bytes in the same round (31 rounds; quiet, hashlib's 577 MiB/s "
        "make it 0.35 s against curl's 0.17 s at 02:54: 2x), SHA-256 3.1x, on this CPU without "
        "SHA-NI; with free cores the least left after the last byte is "
        "the extraction, and the download costs at least the slower of the two digests.",
    ]
    return "\n".join(out) + "\n"


def update_readme(table: str) -> None:
    replace_block(START, END, table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="inventory,deploy", help="comma-separated: inventory, deploy")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size-mib", type=int, default=200, help="deploy: payload size (default 200)")
    parser.add_argument("--fragments", type=int, default=20, help="deploy: fragments (default 20)")
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args(argv)
    wanted = set(args.only.split(","))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.strip()
    results: dict[str, Any] = {"machine": machine_info(), "commit": commit}
    if "inventory" in wanted:
        results["inventory"] = bench_inventory(args.rounds)
    if "deploy" in wanted:
        results["deploy"] = bench_deploy(args.rounds, args.size_mib, args.fragments)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"agent-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(results, indent=2))
    table = markdown(results)
    print(table)
    if not args.no_readme:
        update_readme(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
