"""The files in ``packaging/``: systemd units and the logrotate configuration.

``systemd-analyze verify`` checks the units as systemd would load them (unknown keys,
bad values, a missing executable, a timer's unit); any warning fails the test. The only
change made for the check is the path of ``ocelot`` (``/opt/ocelot/bin/ocelot`` in the
units, this virtualenv's here). ``logrotate --debug`` parses the logrotate file.
Both tools come from tests/system/install-deps.sh: missing, the tests fail.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
