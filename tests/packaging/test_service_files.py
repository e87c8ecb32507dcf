"""The files in ``packaging/``: systemd units and the logrotate configuration.

``systemd-analyze verify`` checks the units as systemd would load them (unknown keys,
bad values, a missing executable, a timer's unit); any warning fails the test. The only
change made for the check is the path of ``ocelot`` (``/opt/ocelot/bin/ocelot`` in the
units, this virtualenv's here). ``logrotate --debug`` parses the logrotate file.
Both tools come from tests/system/install-deps.sh: missing, the tests fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.server.test_metrics_server import suite_database

__all__ = ["suite_database"]  # a fixture: the suite's database, emptied afterwards

PACKAGING = Path(__file__).parents[2] / "packaging"
UNITS = sorted((PACKAGING / "systemd").iterdir())
INSTALLED_OCELOT = "/opt/ocelot/bin/ocelot"


def tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin")
    assert found, f"{name} is missing: run tests/system/install-deps.sh (make deps)"
    return found


@pytest.fixture(scope="module")
def units(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    ocelot = Path(sys.executable).with_name("ocelot")
    assert ocelot.exists(), f"{ocelot}: the ocelot command of this virtualenv"
    target = tmp_path_factory.mktemp("units")
    copies = []
    for unit in UNITS:
        text = unit.read_text()
        copy = target / unit.name
        copy.write_text(text.replace(INSTALLED_OCELOT, str(ocelot)))
        copies.append(copy)
    return copies


def test_the_units_are_the_expected_set():
    assert [unit.name for unit in UNITS] == [
        "ocelot-agent-run.service",
        "ocelot-agent.service",
        "ocelot-agent.timer",
        "ocelot-server.service",
    ]


def test_every_unit_passes_systemd_analyze_verify_without_a_warning(units):
    done = subprocess.run(
        [tool("systemd-analyze"), "verify", "--man=no", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "" and done.stderr.strip() == "", done.stdout + done.stderr


def test_verify_does_catch_a_mistake(units, tmp_path):
    broken = tmp_path / "ocelot-server.service"
    broken.write_text(units[-1].read_text().replace("ProtectSystem=strict", "ProtectSystm=strict"))
    done = subprocess.run(
        [tool("systemd-analyze"), "verify", "--man=no", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Unknown key" in done.stderr


def test_the_units_run_the_commands_the_documentation_gives():
    server = (PACKAGING / "systemd" / "ocelot-server.service").read_text()
    assert f"ExecStart={INSTALLED_OCELOT} server\n" in server
    assert "Environment=OCELOT_HOME=/var/lib/ocelot\n" in server
    assert "Environment=OCELOT_LOG_DIR=/var/log/ocelot\n" in server
    agent = (PACKAGING / "systemd" / "ocelot-agent.service").read_text()
    assert f"ExecStart={INSTALLED_OCELOT} agent --daemon " in agent
    run = (PACKAGING / "systemd" / "ocelot-agent-run.service").read_text()
    assert "Type=oneshot" in run and " agent --lazy " in run
    timer = (PACKAGING / "systemd" / "ocelot-agent.timer").read_text()
    assert "Unit=ocelot-agent-run.service" in timer
    # The daemon and the timer exclude each other.
    assert "Conflicts=ocelot-agent.timer" in agent and "Conflicts=ocelot-agent.service" in timer


def test_the_agent_units_options_are_ones_the_agent_accepts(tmp_path):
    from ocelot.agent.command import build_parser

    for name in ("ocelot-agent.service", "ocelot-agent-run.service"):
        text = (PACKAGING / "systemd" / name).read_text()
        line = next(line for line in text.splitlines() if line.startswith("ExecStart="))
        arguments = line.split()[2:]  # after "ocelot agent"
        parsed = build_parser().parse_args(arguments)
        assert parsed.conf == Path("/etc/ocelot/agent.cfg")
        assert parsed.logfile == Path("/var/log/ocelot-agent/agent.log")


def test_logrotate_reads_the_configuration(tmp_path):
    logs = tmp_path / "log"
    for directory in ("ocelot", "ocelot-agent"):
        (logs / directory).mkdir(parents=True)
        (logs / directory / "server.log").write_text("a line\n" * 1000)
    config = (PACKAGING / "logrotate" / "ocelot").read_text().replace("/var/log/", f"{logs}/")
    (tmp_path / "ocelot").write_text(config)
    done = subprocess.run(
        [
            tool("logrotate"),
            "--debug",
            "--force",
            "--state",
            str(tmp_path / "state"),
            str(tmp_path / "ocelot"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert "error" not in output.lower(), output
    assert "copying" in output and "truncating" in output, output


def test_the_server_unit_is_sandboxed_to_a_low_exposure_level(units):
    # systemd's own score, 0 (locked down) to 10 (unsandboxed); --threshold is in tenths:
    # anything above 2.0 fails. (The test machine has no systemd as PID 1 to run it live.)
    server = next(unit for unit in units if unit.name == "ocelot-server.service")
    done = subprocess.run(
        [tool("systemd-analyze"), "security", "--offline=true", "--threshold=20", str(server)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert "Overall exposure level for ocelot-server.service: 1." in done.stdout


@pytest.mark.server
def test_the_server_runs_in_the_units_sandbox(tmp_path, suite_database):
    """What the sandbox takes away, done by hand (no systemd as PID 1 here): a read-only
    file system except the state directory and /tmp (ProtectSystem=strict, StateDirectory=,
    PrivateTmp=), no capabilities at all (CapabilityBoundingSet=) and no new privileges.
    The server must start, migrate, log, count and answer agents all the same.
    """
    from tests.server.test_metrics_server import get, post, prolog
    from tests.server_process import free_port, ocelot_command, ocelot_environment

    home = tmp_path / "home"
    home.mkdir()
    http_port, https_port = free_port(), free_port()
    listeners = ("--http", f"127.0.0.1:{http_port}", "--https", f"127.0.0.1:{https_port}")
    server = ocelot_command("server", *listeners)
    sandbox = (
        f"mount --bind {home} {home} && mount --bind /tmp /tmp && mount -o remount,bind,ro / && "
        "exec setpriv --no-new-privs --inh-caps=-all --ambient-caps=-all --bounding-set=-all -- "
        + " ".join(server)
    )
    output = tmp_path / "server.out"
    with output.open("wb") as out:
        process = subprocess.Popen(
            [tool("unshare"), "--mount", "--propagation", "private", "sh", "-c", sandbox],
            env=ocelot_environment(home, suite_database),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, output.read_text()
            assert time.monotonic() < deadline, output.read_text()
            try:
                status, body = get(http_port, "/healthz")
                break
            except OSError:
                time.sleep(0.3)
        health = json.loads(body)
        assert health["checks"]["database"]["status"] == "ok", body
        assert health["checks"]["server_certificate"]["status"] == "ok", body
        assert post(http_port, prolog(1)) == 200
        status, text = get(http_port, "/metrics")
        assert status == 200 and b'query="PROLOG"' in text
        assert (home / "log" / "server.log").stat().st_size > 0
        # The sandbox was real: nothing outside the home could be written.
        assert (
            "Read-only file system"
            in subprocess.run(
                [tool("unshare"), "--mount", "sh", "-c", "mount -o remount,bind,ro / && touch /ocelot-probe"],
                capture_output=True,
                text=True,
                check=False,
            ).stderr
        )
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
