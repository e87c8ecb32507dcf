"""Deployment benchmarks of issue 4, each against a reference measured in the same run.

* ``build``: ``ocelot package build`` of a 1 GiB zip (one pass: MD5, SHA-256 of the whole
  and of each fragment, fragments written) against ``md5sum`` then ``sha256sum`` over the
  same file, page cache warm for all three. Target: at least 0.8x their combined
  throughput, i.e. the build takes at most 1.25x (md5sum + sha256sum).
* ``serve``: 64 concurrent downloaders (wrk, one request per fragment in turn) fetching the
  fragments of a 64 MiB package from the embedded server's fragment listener (sendfile,
  communication/fragment_listener.py, where activations point by default) and from nginx
  serving the same directory. Target: at least 0.7x nginx's bytes per second. Also the CPU
  each server spends per fragment, which other work on a shared machine hardly moves. The
  same downloads from the embedded server's HTTP listener (granian, for activations made
  before the fragment listener) are an extra row.
* ``prolog``: PROLOG latency, one request at a time, for a computer with 50 packages
  assigned (each reply announces them) against one with none, in alternating blocks.
  Target: p50 and p99 under 2x.

    .venv/bin/python -m bench.deployment [--only build,serve,prolog] [--size-mib 1024]

Needs ``wrk`` and ``nginx`` (Debian packages; installed with apt-get when missing and run
as root). Everything listens on 127.0.0.1. Figures go to ``bench/results/deployment-*.json``
and between the ``bench:deployment`` markers of bench/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.load import HEADERS
from bench.payload import make_agent
from bench.report import machine_info, replace_block
from bench.targets import OcelotTarget, cpu_snapshot, cpu_usage, descendants, free_port

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
START = "<!-- bench:deployment:start -->"
END = "<!-- bench:deployment:end -->"
MIB = 1024 * 1024


def _log(message: str) -> None:
    print(f"[bench-deploy {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _ocelot() -> str:
    exe = REPO / ".venv" / "bin" / "ocelot"
    return str(exe) if exe.exists() else (shutil.which("ocelot") or "ocelot")


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["OCELOT_HOME"] = str(home)
    env.pop("OCELOT_DATABASE_URL", None)
    return env


def _timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed, done.stdout


def _random_zip(path: Path, size: int) -> None:
    """A zip holding one stored (uncompressed) member of ``size`` random bytes."""
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive,
        archive.open("payload.bin", "w", force_zip64=size >= 2**31) as member,
    ):
        left = size
        while left:
            chunk = os.urandom(min(16 * MIB, left))
            member.write(chunk)
            left -= len(chunk)


def _warm(path: Path) -> None:
    with path.open("rb") as handle:
        while handle.read(16 * MIB):
            pass


def _need(tool: str, package: str) -> str:
    found = shutil.which(tool)
    if found:
        return found
    if os.geteuid() == 0:
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", package],
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            check=True,
            stdout=subprocess.DEVNULL,
        )
        found = shutil.which(tool) or (f"/usr/sbin/{tool}" if Path(f"/usr/sbin/{tool}").exists() else None)
    if not found:
        raise RuntimeError(f"{tool} is missing: apt-get install {package}")
    return found


def _package_build(home: Path, name: str, archive: Path, extra: list[str]) -> tuple[float, dict[str, Any]]:
    command = [_ocelot(), "package", "build", "--name", name, "--os", "linux", "--json", *extra]
    command += ["--file", str(archive)]
    elapsed, out = _timed(command, _env(home))
    return elapsed, json.loads(out)


# -- build --------------------------------------------------------------------------------


def bench_build(size_mib: int, rounds: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="ocelot-bench-build-"))
    try:
        home = work / "home"
        home.mkdir()
        subprocess.run([_ocelot(), "init"], env=_env(home), check=True, capture_output=True)
        archive = work / "big.zip"
        _log(f"build: writing a {size_mib} MiB zip")
        _random_zip(archive, size_mib * MIB)
        size = archive.stat().st_size
        startup, _ = _timed([_ocelot(), "package", "list", "--json"], _env(home))
        samples: dict[str, list[float]] = {"md5sum": [], "sha256sum": [], "build": []}
        expected_md5 = ""
        for number in range(rounds):
            _warm(archive)
            md5_time, md5_out = _timed(["md5sum", str(archive)])
            sha_time, _ = _timed(["sha256sum", str(archive)])
            expected_md5 = md5_out.split()[0]
            _warm(archive)
            build_time, record = _package_build(
                home, f"bench-build-{number}", archive, ["--action", "STORE", "--path", "/opt/bench"]
            )
            if record.get("md5") != expected_md5:
                raise RuntimeError(f"build digest {record.get('md5')} differs from md5sum's {expected_md5}")
            subprocess.run(
                [_ocelot(), "package", "delete", str(record["id"]), "--json"],
                env=_env(home),
                check=True,
                capture_output=True,
            )
            samples["md5sum"].append(md5_time)
            samples["sha256sum"].append(sha_time)
            samples["build"].append(build_time)
            _log(
                f"build round {number + 1}: md5sum {md5_time:.2f}s sha256sum {sha_time:.2f}s "
                f"build {build_time:.2f}s"
            )
        pairs = zip(samples["md5sum"], samples["sha256sum"], strict=True)
        reference = statistics.median(md5 + sha for md5, sha in pairs)
        build = statistics.median(samples["build"])
        return {
            "size_bytes": size,
            "rounds": rounds,
            "samples_s": samples,
            "cli_startup_s": startup,
            "reference_s": reference,
            "build_s": build,
            "reference_mib_s": size / MIB / reference,
            "build_mib_s": size / MIB / build,
            "ratio": reference / build,
            "target": 0.8,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- serve --------------------------------------------------------------------------------

_WRK_SCRIPT = """
local paths = {%s}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""

_NGINX_CONF = """
{user}
daemon off;
worker_processes auto;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  types {{ }}
  default_type application/octet-stream;
  server {{
    listen 127.0.0.1:{port};
    location /download/ {{ alias {download}/; }}
  }}
}}
"""


def _wrk(url: str, script: Path, connections: int, seconds: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    requests = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {
        "requests_s": requests,
        "non_2xx": float(errors.group(1)) if errors else 0.0,
        "socket_errors": 1.0 if socket_errors else 0.0,
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else 0.0,
    }


def _fetch(port: int, path: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path} on port {port}: {response.status}")
        return body
    finally:
        conn.close()


def bench_serve(target: OcelotTarget, work: Path, rounds: int, seconds: int) -> dict[str, Any]:
    assert target.home is not None
    nginx = _need("nginx", "nginx")
    _need("wrk", "wrk")
    archive = work / "serve.zip"
    _random_zip(archive, 64 * MIB - 4096)
    _, record = _package_build(
        target.home,
        "bench-serve",
        archive,
        ["--action", "STORE", "--path", "/opt/bench", "--fragments", "64"],
    )
    package_id = int(record["id"])
    download = target.home / "packages" / "download"
    fragments = sorted((download / str(package_id)).glob(f"{package_id}-*"))
    paths = [f"/download/{package_id}/{fragment.name}" for fragment in fragments]
    fragment_bytes = statistics.mean(fragment.stat().st_size for fragment in fragments)
    script = work / "fragments.lua"
    script.write_text(_WRK_SCRIPT % ", ".join(f'"{path}"' for path in paths))

    nginx_root = work / "nginx"
    nginx_root.mkdir()
    nginx_port = free_port()
    conf = nginx_root / "nginx.conf"
    # As root, nginx's workers would run as www-data, which cannot enter the private
    # OCELOT_HOME of the benchmark (mode 700).
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(_NGINX_CONF.format(user=user, root=nginx_root, port=nginx_port, download=download))
    server = subprocess.Popen([nginx, "-c", str(conf), "-p", str(nginx_root)], stderr=subprocess.PIPE)
    http_port = int(target.url.split(":")[2].split("/")[0])
    ports = {"nginx": nginx_port, "ocelot": target.fragments_port, "granian": http_port}
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                reference = _fetch(nginx_port, paths[0])
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        if reference != fragments[0].read_bytes() or any(
            _fetch(ports[name], paths[0]) != reference for name in ("ocelot", "granian")
        ):
            raise RuntimeError("the servers do not serve the same fragment bytes")
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in ports}
        # The whole embedded server (its idle granian listeners and the log pump included).
        servers = {
            "nginx": lambda: descendants(server.pid),
            "ocelot": target.server_pids,
            "granian": target.server_pids,
        }
        for number in range(rounds):
            for name, port in ports.items():
                # CPU per fragment: unlike the rates, hardly moved by other work on the machine.
                before = cpu_snapshot(servers[name]())
                result = _wrk(f"http://127.0.0.1:{port}", script, 64, seconds)
                used = cpu_usage(before, cpu_snapshot(servers[name]()))
                result["mib_s"] = result["requests_s"] * fragment_bytes / MIB
                result["server_cpu_ms"] = 1000 * used["server_cores"] / max(result["requests_s"], 1e-9)
                result["other_cores"] = used["other_cores"]
                runs[name].append(result)
                rate, p99 = result["mib_s"], result["p99_ms"]
                _log(
                    f"serve round {number + 1} {name}: {rate:.0f} MiB/s, p99 {p99:.0f} ms, "
                    f"{result['server_cpu_ms']:.2f} ms of server CPU per fragment, "
                    f"other work {used['other_cores']:.1f} cores"
                )
    finally:
        server.terminate()
        server.wait(timeout=20)
    nginx_rate = statistics.median(r["mib_s"] for r in runs["nginx"])
    ocelot_rate = statistics.median(r["mib_s"] for r in runs["ocelot"])
    granian_rate = statistics.median(r["mib_s"] for r in runs["granian"])
    return {
        "fragments": len(paths),
        "fragment_bytes": fragment_bytes,
        "connections": 64,
        "seconds": seconds,
        "runs": runs,
        "nginx_mib_s": nginx_rate,
        "ocelot_mib_s": ocelot_rate,
        "ratio": ocelot_rate / nginx_rate,
        "granian_mib_s": granian_rate,
        "granian_ratio": granian_rate / nginx_rate,
        "nginx_cpu_ms": statistics.median(r["server_cpu_ms"] for r in runs["nginx"]),
        "ocelot_cpu_ms": statistics.median(r["server_cpu_ms"] for r in runs["ocelot"]),
        "granian_cpu_ms": statistics.median(r["server_cpu_ms"] for r in runs["granian"]),
        "other_cores": statistics.median(r["other_cores"] for rs in runs.values() for r in rs),
        # The verdict's: nginx and the fragment listener (granian's are its row's own).
        "errors": sum(r["non_2xx"] + r["socket_errors"] for name in ("nginx", "ocelot") for r in runs[name]),
        "granian_errors": sum(r["non_2xx"] + r["socket_errors"] for r in runs["granian"]),
        "target": 0.7,
    }


# -- prolog -------------------------------------------------------------------------------


def _post(port: int, body: bytes) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/ocsinventory", body=body, headers=HEADERS)
        response = conn.getresponse()
        payload = response.read()
        if response.status != 200:
            raise RuntimeError(f"POST answered {response.status}: {payload[:200]!r}")
        return payload
    finally:
        conn.close()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def bench_prolog(target: OcelotTarget, rounds: int, per_block: int, packages: int) -> dict[str, Any]:
    assert target.home is not None
    import zlib

    port = int(target.url.split(":")[2].split("/")[0])
    busy, idle = make_agent(0, "deploy-bench"), make_agent(1, "deploy-bench")
    for agent in (busy, idle):
        _post(port, agent.prolog)
        _post(port, agent.first)
    setup = subprocess.run(
        [sys.executable, "-m", "bench.deployment_setup", "assign-many", str(packages), busy.device_id],
        env=_env(target.home),
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    announced = json.loads(setup.stdout)["packages"]
    reply = zlib.decompress(_post(port, busy.prolog)).decode()
    count = reply.count('TYPE="PACK"')
    if count != packages:
        raise RuntimeError(f"the PROLOG reply announces {count} packages, not {packages}")
    if 'TYPE="PACK"' in zlib.decompress(_post(port, idle.prolog)).decode():
        raise RuntimeError("the computer without assignments got a package")
    latencies: dict[str, list[float]] = {"none": [], "assigned": []}
    for _ in range(per_block):  # warm-up
        _post(port, busy.prolog)
        _post(port, idle.prolog)
    for number in range(rounds):
        for name, agent in (("none", idle), ("assigned", busy)):
            for _ in range(per_block):
                started = time.perf_counter()
                _post(port, agent.prolog)
                latencies[name].append(time.perf_counter() - started)
        _log(
            f"prolog round {number + 1}: none p50 {1000 * statistics.median(latencies['none']):.1f} ms, "
            f"{packages} assigned p50 {1000 * statistics.median(latencies['assigned']):.1f} ms"
        )
    summary: dict[str, Any] = {"packages": len(announced), "requests_each": len(latencies["none"])}
    for name, values in latencies.items():
        summary[name] = {
            "p50_ms": 1000 * statistics.median(values),
            "p99_ms": 1000 * _percentile(values, 0.99),
            "mean_ms": 1000 * statistics.fmean(values),
        }
    summary["ratio_p50"] = summary["assigned"]["p50_ms"] / summary["none"]["p50_ms"]
    summary["ratio_p99"] = summary["assigned"]["p99_ms"] / summary["none"]["p99_ms"]
    summary["target"] = 2.0
    return summary


# -- report -------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    out = [
        "## Deployment (issue 4)",
        "",
        f"Run of {machine['date']} (commit {results['commit']}): {machine['nproc']} cores, "
        f"`python -m bench.deployment`.",
        "",
        "| benchmark | Ocelot | reference, same run | ratio | target |",
        "|---|--:|--:|--:|---|",
    ]
    build = results.get("build")
    if build:
        out.append(
            f"| build {build['size_bytes'] / MIB:.0f} MiB zip (`ocelot package build`, median of "
            f"{build['rounds']}) | {build['build_s']:.2f} s ({build['build_mib_s']:.0f} MiB/s) "
            f"| md5sum + sha256sum {build['reference_s']:.2f} s ({build['reference_mib_s']:.0f} MiB/s) "
            f"| {build['ratio']:.2f}x | ≥ 0.8x {_verdict(build['ratio'] >= 0.8)} |"
        )
    serve = results.get("serve")
    if serve:
        out.append(
            f"| fragments to 64 downloaders ({serve['fragments']} x {serve['fragment_bytes'] / MIB:.1f} MiB, "
            f"wrk {serve['seconds']} s, median): fragment listener | {serve['ocelot_mib_s']:.0f} MiB/s "
            f"| nginx {serve['nginx_mib_s']:.0f} MiB/s "
            f"| {serve['ratio']:.2f}x | ≥ 0.7x {_verdict(serve['ratio'] >= 0.7 and not serve['errors'])} |"
        )
        if "granian_mib_s" in serve:
            out.append(
                f"| the same from the HTTP listener (granian) | {serve['granian_mib_s']:.0f} MiB/s "
                f"| nginx {serve['nginx_mib_s']:.0f} MiB/s | {serve['granian_ratio']:.2f}x "
                + (
                    f"| (older activations; {serve['granian_errors']:.0f} errors) |"
                    if serve.get("granian_errors")
                    else "| (older activations) |"
                )
            )
    prolog = results.get("prolog")
    if prolog:
        out.append(
            f"| PROLOG, {prolog['packages']} packages assigned vs none ({prolog['requests_each']} each, c=1) "
            f"| p50 {prolog['assigned']['p50_ms']:.1f} ms, p99 {prolog['assigned']['p99_ms']:.1f} ms "
            f"| p50 {prolog['none']['p50_ms']:.1f} ms, p99 {prolog['none']['p99_ms']:.1f} ms "
            f"| {prolog['ratio_p50']:.2f}x / {prolog['ratio_p99']:.2f}x | < 2x "
            f"{_verdict(prolog['ratio_p50'] < 2 and prolog['ratio_p99'] < 2)} |"
        )
    if serve and "ocelot_cpu_ms" in serve:
        out += [
            "",
            f"Serving a fragment took {serve['ocelot_cpu_ms']:.2f} ms of the embedded server's CPU "
            "from its fragment listener"
            + (
                f" ({serve['granian_cpu_ms']:.2f} ms from its HTTP listener)"
                if "granian_cpu_ms" in serve
                else ""
            )
            + f" against {serve['nginx_cpu_ms']:.2f} ms of nginx's (median of the wrk runs); other work "
            f"on the machine kept {serve['other_cores']:.1f} cores busy meanwhile.",
        ]
    if build:
        out += [
            "",
            f"The build time includes the command's start-up ({build['cli_startup_s']:.2f} s for "
            "`ocelot package list`): Python, Django, the database.",
        ]
    return "\n".join(out) + "\n"


def update_readme(table: str) -> None:
    replace_block(START, END, table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="build,serve,prolog", help="comma-separated: build, serve, prolog")
    parser.add_argument("--size-mib", type=int, default=1024, help="build: archive size (default 1024)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="serve: seconds per wrk run")
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args(argv)
    wanted = set(args.only.split(","))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.strip()
    results: dict[str, Any] = {"machine": machine_info(), "commit": commit}
    steps: list[tuple[str, Callable[[], dict[str, Any]]]] = []
    if "build" in wanted:
        steps.append(("build", lambda: bench_build(args.size_mib, args.rounds)))
    for name, step in steps:
        results[name] = step()
    if wanted & {"serve", "prolog"}:
        target = OcelotTarget("sqlite", settings={"DOWNLOAD": "1"})
        work = Path(tempfile.mkdtemp(prefix="ocelot-bench-serve-"))
        target.open()
        try:
            target.start_scenario("deploy")
            if "serve" in wanted:
                results["serve"] = bench_serve(target, work, args.rounds, args.seconds)
            if "prolog" in wanted:
                results["prolog"] = bench_prolog(target, args.rounds * 2, 200, 50)
        finally:
            target.close()
            shutil.rmtree(work, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"deployment-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(results, indent=2))
    table = markdown(results)
    print(table)
    if not args.no_readme:
        update_readme(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
