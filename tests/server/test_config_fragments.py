"""The ``fragments`` setting: where the fragment listener binds (communication/fragment_listener.py)."""

from __future__ import annotations

from pathlib import Path

from ocelot.server.config import load_config


def test_the_fragment_listener_binds_next_to_the_http_listener_by_default(tmp_path: Path) -> None:
    config = load_config({"OCELOT_HOME": str(tmp_path)})
    assert (config.http_bind, config.fragments_bind) == ("127.0.0.1:8080", "127.0.0.1:8081")


def test_the_fragments_setting_moves_it_from_the_environment_or_the_toml_file(tmp_path: Path) -> None:
    assert load_config({"OCELOT_HOME": str(tmp_path), "OCELOT_FRAGMENTS": "0.0.0.0:9000"}).fragments_bind == (
        "0.0.0.0:9000"
    )
    (tmp_path / "ocelot.toml").write_text('fragments = "10.0.0.5:8081"\n')
    assert load_config({"OCELOT_HOME": str(tmp_path)}).fragments_bind == "10.0.0.5:8081"


def test_an_empty_value_turns_it_off(tmp_path: Path) -> None:
    assert load_config({"OCELOT_HOME": str(tmp_path), "OCELOT_FRAGMENTS": ""}).fragments_bind == ""
    (tmp_path / "ocelot.toml").write_text('fragments = ""\n')
    assert load_config({"OCELOT_HOME": str(tmp_path)}).fragments_bind == ""
