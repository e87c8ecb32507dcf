"""One agent run against a scripted server, and in local mode (protocol.md §3, §4, §6, §13)."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from ocelot.agent.client import USER_AGENT, Client, ServerError, server_url
from ocelot.agent.config import Options
from ocelot.agent.run import AgentError, run_once
from ocelot.agent.state import AgentState, vardir_for
from ocelot.protocol.sections import ALL_AGENT_BITS
from ocelot.protocol.useragent import is_agent
from ocelot.protocol.xmltree import Node, parse_xml
from tests.agent.conftest import machine
from tests.agent.fake_server import reply, scripted_server


def account(key: str, value: str) -> Node:
    return Node("ACCOUNTINFO", children=[Node("KEYNAME", text=key), Node("KEYVALUE", text=value)])


def options(tmp_path: Path, server: str | None = None, **values: object) -> Options:
    return Options(server=server, basevardir=tmp_path / "var", **values)  # type: ignore[arg-type]


def state_of(tmp_path: Path, server: str | None) -> AgentState:
    return AgentState(vardir_for(tmp_path / "var", server))


def test_a_bare_host_means_the_ocsinventory_path_over_http() -> None:
    assert server_url("ocs.example.org") == "http://ocs.example.org/ocsinventory"
    assert server_url("https://ocs/ocsinventory") == "https://ocs/ocsinventory"


def test_our_user_agent_passes_ocelots_gate() -> None:
    assert is_agent(USER_AGENT)


def test_prolog_then_inventory_with_the_unix_agents_headers_and_zlib(tmp_path: Path) -> None:
    replies: dict[str, bytes | int] = {
        "PROLOG": reply("SEND", PROLOG_FREQ="12"),
        "INVENTORY": reply("NO_ACCOUNT_UPDATE"),
    }
    with scripted_server(replies) as server:
        assert run_once(options(tmp_path, server.url, tag="LAB"), machine("debian12-vm")) == 0
    assert server.queries() == ["PROLOG", "INVENTORY"]
    prolog, sent = server.exchanges
    assert prolog.raw[:2] == b"\x78\x9c"  # zlib at the default level (protocol.md §1.3)
    assert prolog.headers["Content-Type"] == "application/x-compress"
    assert prolog.headers["Pragma"] == "no-cache"
    assert prolog.headers["User-Agent"] == USER_AGENT
    assert [child.tag for child in prolog.document.children] == ["DEVICEID", "QUERY"]
    inventory = sent.document
    assert inventory.value("DEVICEID") == prolog.document.value("DEVICEID")
    content = inventory.find("CONTENT")
    assert content is not None
    hardware = content.find("HARDWARE")
    assert hardware is not None and hardware.value("CHECKSUM") == str(ALL_AGENT_BITS)
    assert [(a.value("KEYNAME"), a.value("KEYVALUE")) for a in content.find_all("ACCOUNTINFO")] == [
        ("TAG", "LAB")
    ]
    assert content.find("DOWNLOAD") is not None
    state = state_of(tmp_path, server.url)
    assert state.prolog_freq() == 12
    assert state.last_state() is not None  # written after the accepted inventory


def test_a_second_run_flags_only_what_changed(tmp_path: Path) -> None:
    replies: dict[str, bytes | int] = {"PROLOG": reply("SEND"), "INVENTORY": reply("NO_ACCOUNT_UPDATE")}
    with scripted_server(replies) as server:
        run_once(options(tmp_path, server.url), machine("debian12-vm"))
        run_once(options(tmp_path, server.url), machine("debian12-vm"))
    second = server.exchanges[3].document
    assert second.value("QUERY") == "INVENTORY"
    assert parse_xml_checksum(second) == 0  # the same captured machine: nothing changed


def parse_xml_checksum(document: Node) -> int:
    content = document.find("CONTENT")
    assert content is not None
    hardware = content.find("HARDWARE")
    assert hardware is not None
    return int(hardware.value("CHECKSUM") or "-1")


def test_stop_sends_no_inventory_and_lazy_waits_for_prolog_freq(tmp_path: Path) -> None:
    replies: dict[str, bytes | int] = {"PROLOG": reply("STOP", PROLOG_FREQ="6")}
    with scripted_server(replies) as server:
        assert run_once(options(tmp_path, server.url), machine("debian12-vm")) == 0
        assert server.queries() == ["PROLOG"]
        assert run_once(options(tmp_path, server.url, lazy=True), machine("debian12-vm")) == 0
        assert server.queries() == ["PROLOG"]  # lazy: PROLOG_FREQ has not passed
        run_once(options(tmp_path, server.url), machine("debian12-vm"))
    assert server.queries() == ["PROLOG", "PROLOG"]
    assert state_of(tmp_path, server.url).last_state() is None


def test_force_skips_the_prolog(tmp_path: Path) -> None:
    with scripted_server({"INVENTORY": reply("NO_ACCOUNT_UPDATE")}) as server:
        run_once(options(tmp_path, server.url, force=True), machine("debian12-vm"))
    assert server.queries() == ["INVENTORY"]


def test_account_update_replaces_the_tag_and_later_runs_send_it(tmp_path: Path) -> None:
    update = reply("ACCOUNT_UPDATE", account("TAG", "FROM_SERVER"), account("fields_3", "x"))
    replies: dict[str, bytes | int] = {"PROLOG": reply("SEND"), "INVENTORY": update}
    with scripted_server(replies) as server:
        run_once(options(tmp_path, server.url, tag="MINE"), machine("debian12-vm"))
        server.replies["INVENTORY"] = reply("NO_ACCOUNT_UPDATE")
        run_once(options(tmp_path, server.url, tag="MINE"), machine("debian12-vm"))
    content = server.exchanges[3].document.find("CONTENT")
    assert content is not None
    pairs = [(a.value("KEYNAME"), a.value("KEYVALUE")) for a in content.find_all("ACCOUNTINFO")]
    assert pairs == [("TAG", "FROM_SERVER"), ("fields_3", "x")]


def test_a_refused_inventory_keeps_no_last_state_and_fails_in_one_line(tmp_path: Path) -> None:
    replies: dict[str, bytes | int] = {"PROLOG": reply("SEND"), "INVENTORY": 403}
    with scripted_server(replies) as server, pytest.raises(AgentError, match="403"):
        run_once(options(tmp_path, server.url), machine("debian12-vm"))
    assert state_of(tmp_path, server.url).last_state() is None


def test_an_unreachable_server_is_an_agent_error(tmp_path: Path) -> None:
    with pytest.raises(AgentError, match="cannot reach"):
        run_once(options(tmp_path, "http://127.0.0.1:9/ocsinventory", timeout=5.0), machine("debian12-vm"))


def test_an_empty_or_unusable_reply_is_a_server_error() -> None:
    with scripted_server({"PROLOG": b"not xml at all"}) as server:
        client = Client(server.url)
        with pytest.raises(ServerError, match="unusable reply"):
            client.post(b'<?xml version="1.0"?><REQUEST><QUERY>PROLOG</QUERY></REQUEST>')
        client.close()


def test_local_mode_writes_the_plain_document_with_every_bit_and_sends_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert run_once(options(tmp_path, None, local=out, tag="OFFLINE"), machine("debian12-vm")) == 0
    (written,) = out.iterdir()
    device_id = state_of(tmp_path, None).device_id("vm")
    assert written.name == f"{device_id}.ocs"
    document = parse_xml(written.read_bytes())
    assert document.value("QUERY") == "INVENTORY"
    assert parse_xml_checksum(document) == ALL_AGENT_BITS
    content = document.find("CONTENT")
    assert content is not None and content.find("DOWNLOAD") is None  # no deployment in local mode
    assert not written.read_bytes().startswith(zlib.compress(b"")[:2])


def test_xml_and_stdout_modes(tmp_path: Path, capsys: pytest.CaptureFixture[bytes]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    run_once(options(tmp_path, None, local=out, xml=True), machine("debian12-vm"))
    assert [path.suffix for path in out.iterdir()] == [".xml"]
    run_once(options(tmp_path, None, stdout=True, nosoft=True), machine("debian12-vm"))
    printed = capsys.readouterr().out
    assert "<QUERY>INVENTORY</QUERY>" in str(printed)
    assert "<SOFTWARES>" not in str(printed)


def test_nothing_to_do_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(AgentError, match="nothing to do"):
        run_once(options(tmp_path), machine("debian12-vm"))


def test_the_state_directory_parses_as_the_unix_agents_files(tmp_path: Path) -> None:
    with scripted_server({"PROLOG": reply("SEND"), "INVENTORY": reply("NO_ACCOUNT_UPDATE")}) as server:
        run_once(options(tmp_path, server.url, tag="T"), machine("debian12-vm"))
    vardir = vardir_for(tmp_path / "var", server.url)
    assert parse_xml((vardir / "ocsinv.conf").read_bytes()).tag == "CONF"
    assert parse_xml((vardir / "ocsinv.adm").read_bytes()).tag == "ADM"
    assert parse_xml((vardir / "last_state").read_bytes()).tag == "LAST_STATE"
