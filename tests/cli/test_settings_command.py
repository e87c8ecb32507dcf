"""``ocelot settings``: list, get, set (validated) and reset."""

from __future__ import annotations

import json

import pytest

from ocelot.cli.main import main
from ocelot.inventory.setting_values import global_value

pytestmark = pytest.mark.django_db


def test_list_shows_every_option_with_value_default_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settings", "list", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["FREQUENCY"]["value"] == 0
    assert rows["PROLOG_FREQ"]["default"] == 24
    assert "days" in rows["FREQUENCY"]["help"]

    assert main(["settings", "list", "--category", "deployment"]) == 0
    text = capsys.readouterr().out
    assert "DOWNLOAD_TIMEOUT = 30 days" in text
    assert "FREQUENCY" not in text


def test_set_validates_and_stores_then_get_and_reset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settings", "set", "prolog_freq", "6"]) == 0
    assert capsys.readouterr().out.strip() == "PROLOG_FREQ = 6"
    assert global_value("PROLOG_FREQ") == 6
    assert main(["settings", "get", "PROLOG_FREQ"]) == 0
    assert capsys.readouterr().out.strip() == "6"
    assert main(["settings", "reset", "PROLOG_FREQ"]) == 0
    assert global_value("PROLOG_FREQ") == 24


@pytest.mark.parametrize(("name", "value"), [("PROLOG_FREQ", "often"), ("FREQUENCY", "-5"), ("NO_SUCH", "1")])
def test_bad_input_is_refused_with_one_line_and_changes_nothing(
    name: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["settings", "set", name, value]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ocelot settings: ")
    assert len(err.strip().splitlines()) == 1
    assert global_value("PROLOG_FREQ") == 24
