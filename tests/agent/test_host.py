"""The door to the machine: files under a root, commands as argv lists with a timeout."""

from __future__ import annotations

import sys
from pathlib import Path

from ocelot.agent.host import CapturedHost, MachineHost
from tests.agent.conftest import CAPTURES


def test_files_are_read_under_the_root_directory(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "uptime").write_text("12.5 3.0\n")
    host = MachineHost(tmp_path)
    assert host.read_value("/proc/uptime") == "12.5 3.0"
    assert host.read_text("/proc/missing") is None
    assert host.read_value("/proc/missing") == ""
    assert host.list_dir("/proc") == ["uptime"]
    assert host.list_dir("/nowhere") == []


def test_a_command_runs_without_a_shell_and_its_output_is_captured() -> None:
    host = MachineHost()
    result = host.run([sys.executable, "-c", "import sys; print(sys.argv[1])", "$HOME; echo hacked"])
    assert result is not None and result.ok
    assert result.stdout == "$HOME; echo hacked\n"  # passed as one argument, never interpreted


def test_a_missing_command_and_a_command_over_its_timeout_give_nothing() -> None:
    host = MachineHost()
    assert host.run(["no-such-command-ocelot"]) is None
    assert host.run([sys.executable, "-c", "import time; time.sleep(5)"], timeout=0.5) is None


def test_a_failing_command_has_no_output_for_collectors() -> None:
    host = MachineHost()
    assert host.output([sys.executable, "-c", "print('partial'); raise SystemExit(3)"]) is None
    result = host.run([sys.executable, "-c", "raise SystemExit(3)"])
    assert result is not None and result.returncode == 3


def test_a_capture_replays_its_commands_and_knows_what_was_not_installed() -> None:
    host = CapturedHost(CAPTURES / "debian12-vm")
    assert host.hostname() == "vm"
    assert host.which("lspci")
    assert not host.which("rpm")
    assert host.run(["rpm", "-qa"]) is None
    assert (host.output(["uname", "-m"]) or "").strip() == "x86_64"
    dmidecode = host.run(["dmidecode", "-t", "17"])
    assert dmidecode is not None and dmidecode.returncode == 1
    assert host.link_name("/sys/class/net/eth0/device/driver") == "virtio_net"
