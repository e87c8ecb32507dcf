"""The state directory: DEVICEID, account info, last state, written atomically (§2, §5.3, §5.4)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ocelot.agent.state import AgentState, vardir_for, write_atomically
from ocelot.protocol.messages import DEVICE_ID


def test_the_vardir_is_named_after_the_server_url_like_the_unix_agent() -> None:
    assert vardir_for(Path("/var/lib/x"), "https://host/ocsinventory") == Path(
        "/var/lib/x/https:__host_ocsinventory"
    )
    assert vardir_for(Path("/var/lib/x"), None) == Path("/var/lib/x/__LOCAL__")


def test_the_device_id_is_made_once_in_ocs_format_and_kept(tmp_path: Path) -> None:
    state = AgentState(tmp_path)
    first = state.device_id("pc", now=0)
    assert first == "pc-1970-01-01-00-00-00"
    assert DEVICE_ID.match(first)
    assert state.device_id("pc", now=1_000_000) == first
    assert AgentState(tmp_path).device_id("pc") == first
    assert "<DEVICEID>pc-1970-01-01-00-00-00</DEVICEID>" in (tmp_path / "ocsinv.conf").read_text()


def test_a_new_host_name_gives_a_new_device_id_and_remembers_the_old_one(tmp_path: Path) -> None:
    state = AgentState(tmp_path)
    old = state.device_id("pc", now=0)
    new = state.device_id("laptop", now=86400)
    assert new == "laptop-1970-01-02-00-00-00"
    assert f"<OLD_DEVICEID>{old}</OLD_DEVICEID>" in (tmp_path / "ocsinv.conf").read_text()


def test_the_tag_is_set_only_while_there_is_none_and_account_updates_replace_everything(
    tmp_path: Path,
) -> None:
    state = AgentState(tmp_path)
    state.set_tag_if_missing("FIRST")
    state.set_tag_if_missing("SECOND")
    assert state.account_info() == [("TAG", "FIRST")]
    state.replace_account_info([("TAG", "FROM_SERVER"), ("fields_3", "Paris & <Lyon>")])
    assert AgentState(tmp_path).account_info() == [("TAG", "FROM_SERVER"), ("fields_3", "Paris & <Lyon>")]
    assert re.search(r"<KEYNAME>TAG</KEYNAME>\s*<KEYVALUE>FROM_SERVER</KEYVALUE>", state.adm_path.read_text())


def test_last_state_round_trips_and_a_damaged_file_counts_as_none(tmp_path: Path) -> None:
    state = AgentState(tmp_path)
    assert state.last_state() is None
    state.write_last_state({"HARDWARE": "abc", "BIOS": "def"})
    assert state.last_state() == {"BIOS": "def", "HARDWARE": "abc"}
    state.last_state_path.write_text("<LAST_STATE><HARD")
    assert state.last_state() is None


def test_prolog_freq_defaults_to_a_day_and_keeps_the_servers_value(tmp_path: Path) -> None:
    state = AgentState(tmp_path)
    assert state.prolog_freq() == 24
    state.device_id("pc")
    state.set_prolog_freq(12)
    assert state.prolog_freq() == 12
    assert state.device_id("pc").startswith("pc-")  # the conf keeps both


def test_the_package_history_keeps_ids_in_order_once(tmp_path: Path) -> None:
    (tmp_path / "download").mkdir()
    (tmp_path / "download" / "history").write_text("1700000001\n\n1700000002\nnot-an-id\n1700000001\n")
    assert AgentState(tmp_path).package_history() == ["1700000001", "1700000002"]


def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "last_state"
    write_atomically(target, b"old")

    def failing_replace(source: str, destination: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        write_atomically(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["last_state"]
