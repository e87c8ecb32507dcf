"""``ocelot agent`` / ``python -m ocelot.agent``: options, config file and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ocelot.agent import command
from ocelot.agent.config import ConfigError, Options, build_options, read_config_file
from ocelot.cli.main import main as ocelot_main


def test_the_config_file_holds_the_long_options_and_the_command_line_wins(tmp_path: Path) -> None:
    conf = tmp_path / "agent.cfg"
    conf.write_text(
        "# Ocelot agent\nserver=https://ocs.example.org/ocsinventory\ntag=FROM_FILE\nssl=0\nnosoft=1\n"
    )
    values = read_config_file(conf)
    assert values == {
        "server": "https://ocs.example.org/ocsinventory",
        "tag": "FROM_FILE",
        "ssl": False,
        "nosoft": True,
    }
    options = build_options(values, {"tag": "FROM_COMMAND_LINE", "server": None, "basevardir": Path("/x")})
    assert options == Options(
        server="https://ocs.example.org/ocsinventory",
        tag="FROM_COMMAND_LINE",
        ssl=False,
        nosoft=True,
        basevardir=Path("/x"),
    )
    assert options.sends


def test_a_typo_or_a_bad_value_in_the_config_file_is_refused(tmp_path: Path) -> None:
    conf = tmp_path / "agent.cfg"
    conf.write_text("sever=http://x\n")
    with pytest.raises(ConfigError, match="unknown setting 'sever'"):
        read_config_file(conf)
    conf.write_text("ssl=maybe\n")
    with pytest.raises(ConfigError, match="ssl: expected 0 or 1"):
        read_config_file(conf)


def test_local_stdout_and_xml_never_send() -> None:
    assert not Options(server="http://x", local=Path("/tmp")).sends
    assert not Options(server="http://x", stdout=True).sends
    assert not Options(server="http://x", xml=True).sends
    assert not Options().sends


def test_a_config_error_is_one_line_and_exit_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = tmp_path / "agent.cfg"
    conf.write_text("nonsense\n")
    assert command.main(["--conf", str(conf), "--stdout"]) == 2
    assert capsys.readouterr().err == f"ocelot agent: {conf}:1: unknown setting 'nonsense'\n"


def test_a_run_that_fails_is_one_line_and_exit_status_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "agent.cfg"
    empty.write_text("")
    assert command.main(["--conf", str(empty), f"--basevardir={tmp_path}"]) == 1
    assert capsys.readouterr().err.startswith("ocelot agent: nothing to do")


def test_ocelot_agent_hands_its_arguments_to_the_agent(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        ocelot_main(["agent", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ocelot agent")
    for option in (
        "--server",
        "--local",
        "--xml",
        "--stdout",
        "--force",
        "--tag",
        "--nosoft",
        "--debug",
        "--info",
    ):
        assert option in out
    for option in ("--ca", "--ssl", "--basevardir", "--lazy"):
        assert option in out


def test_python_dash_m_ocelot_agent_prints_an_inventory(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "ocelot.agent", "--stdout", "--nosoft", f"--basevardir={tmp_path}"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<REQUEST>')
    assert b"<QUERY>INVENTORY</QUERY>" in completed.stdout
