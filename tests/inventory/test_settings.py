"""General options: the catalogue, validation, and resolution computer -> groups -> global."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ocelot.inventory import setting_values
from ocelot.inventory.models import Computer, Group, GroupMember, Setting
from ocelot.inventory.setting_catalogue import CATALOGUE, SettingError, definition
from ocelot.inventory.setting_values import (
    agent_settings,
    clear_override,
    global_value,
    global_values,
    resolve,
    set_global,
    set_override,
)

# The general options table of the seed (004, "Gérer les options générales").
SEED_OPTIONS = {
    "AUTO_DUPLICATE_LVL",
    "DEPLOY",
    "DOWNLOAD",
    "DOWNLOAD_CYCLE_LATENCY",
    "DOWNLOAD_FRAG_LATENCY",
    "DOWNLOAD_PERIOD_LATENCY",
    "DOWNLOAD_PERIOD_LENGTH",
    "DOWNLOAD_TIMEOUT",
    "FREQUENCY",
    "INVENTORY_DIFF",
    "INVENTORY_TRANSACTION",
    "IPDISCOVER",
    "IPDISCOVER_LATENCY",
    "IPDISCOVER_MAX_ALIVE",
    "LOCAL_PORT",
    "LOCAL_SERVER",
    "LOGLEVEL",
    "PROLOG_FREQ",
    "REGISTRY",
    "TRACE_DELETED",
    "UPDATE",
}


def test_every_option_of_the_seed_is_in_the_catalogue_with_help_text() -> None:
    names = {item.name for item in CATALOGUE}
    assert names >= SEED_OPTIONS
    assert all(item.help for item in CATALOGUE)


def test_defaults_follow_the_seeds() -> None:
    expected = {
        "FREQUENCY": 0,
        "PROLOG_FREQ": 24,
        "AUTO_DUPLICATE_LVL": 7,
        "DOWNLOAD": 0,
        "DOWNLOAD_FRAG_LATENCY": 10,
        "DOWNLOAD_CYCLE_LATENCY": 60,
        "DOWNLOAD_PERIOD_LATENCY": 0,
        "DOWNLOAD_PERIOD_LENGTH": 10,
        "DOWNLOAD_TIMEOUT": 30,
        "IPDISCOVER": 2,
        "IPDISCOVER_MAX_ALIVE": 7,
        "IPDISCOVER_LATENCY": 100,
        "REGISTRY": 0,
        "DEPLOY": 1,
        "UPDATE": 0,
    }
    assert {name: definition(name).default for name in expected} == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [("FREQUENCY", "-2"), ("FREQUENCY", "soon"), ("PROLOG_FREQ", "0"), ("DOWNLOAD", "maybe"), ("NOPE", "1")],
)
def test_bad_values_and_unknown_names_are_refused(name: str, value: str) -> None:
    with pytest.raises(SettingError):
        definition(name).parse(value)


def test_switches_accept_on_and_off_words() -> None:
    assert definition("DOWNLOAD").parse("on") == 1
    assert definition("DOWNLOAD").parse("Off") == 0


@pytest.mark.django_db
def test_a_stored_global_value_replaces_the_default() -> None:
    assert global_value("FREQUENCY") == 0
    set_global("frequency", "3")
    assert global_value("FREQUENCY") == 3
    assert global_values()["FREQUENCY"] == 3


@pytest.mark.django_db
def test_a_computer_only_setting_cannot_be_set_globally() -> None:
    with pytest.raises(SettingError):
        set_global("DOWNLOAD_SWITCH", 0)


@pytest.mark.django_db
def test_a_computer_value_wins_over_its_groups_which_win_over_the_global_value() -> None:
    computer = Computer.objects.create(device_id="pc-2026-01-01-00-00-00")
    fast, slow = Group.objects.create(name="fast"), Group.objects.create(name="slow")
    GroupMember.objects.create(group=fast, computer=computer)
    GroupMember.objects.create(group=slow, computer=computer)
    set_global("PROLOG_FREQ", 24)
    set_global("DOWNLOAD_FRAG_LATENCY", 10)
    assert resolve(computer.pk).int("PROLOG_FREQ") == 24

    set_override("PROLOG_FREQ", 6, group=fast)
    set_override("PROLOG_FREQ", 12, group=slow)
    set_override("DOWNLOAD_FRAG_LATENCY", 30, group=fast)
    set_override("DOWNLOAD_FRAG_LATENCY", 5, group=slow)
    settings = resolve(computer.pk)
    assert settings.int("PROLOG_FREQ") == 6  # the smallest group value
    assert settings.int("DOWNLOAD_FRAG_LATENCY") == 30  # latencies: the largest

    set_override("PROLOG_FREQ", 48, computer=computer)
    assert resolve(computer.pk).int("PROLOG_FREQ") == 48
    clear_override("PROLOG_FREQ", computer=computer)
    assert resolve(computer.pk).int("PROLOG_FREQ") == 6


@pytest.mark.django_db
def test_an_excluded_member_does_not_get_the_groups_settings() -> None:
    computer = Computer.objects.create(device_id="pc-2026-01-01-00-00-00")
    group = Group.objects.create(name="lab")
    GroupMember.objects.create(group=group, computer=computer, kind=GroupMember.EXCLUDED)
    set_override("FREQUENCY", 5, group=group)
    assert resolve(computer.pk).int("FREQUENCY") == 0


@pytest.mark.django_db
def test_a_computers_settings_are_one_query_whatever_its_groups_and_other_computers_have() -> None:
    # Read at the contact of every computer with an override or a group (contact.py).
    computer = Computer.objects.create(device_id="pc-2026-01-01-00-00-00")
    other = Computer.objects.create(device_id="other-2026-01-01-00-00-00")
    member, outsider = Group.objects.create(name="member"), Group.objects.create(name="outsider")
    GroupMember.objects.create(group=member, computer=computer, kind=GroupMember.STATIC)
    GroupMember.objects.create(group=outsider, computer=other)
    set_override("DOWNLOAD_PERIOD_LENGTH", 7, group=member)
    set_override("DOWNLOAD_PERIOD_LENGTH", 2, group=outsider)
    set_override("PROLOG_FREQ", 3, computer=other)
    base = global_values()
    with CaptureQueriesContext(connection) as queries:
        settings = resolve(computer.pk, base)
    assert len(queries) == 1
    assert settings.int("DOWNLOAD_PERIOD_LENGTH") == 7
    assert settings.int("PROLOG_FREQ") == base["PROLOG_FREQ"]


@pytest.mark.django_db
def test_an_override_names_exactly_one_target_of_an_allowed_scope() -> None:
    computer = Computer.objects.create(device_id="pc-2026-01-01-00-00-00")
    with pytest.raises(SettingError):
        set_override("FREQUENCY", 1)
    with pytest.raises(SettingError):
        set_override("AUTO_DUPLICATE_LVL", 1, computer=computer)


@pytest.fixture
def own_stamp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stamp file of this test's own: the suite's parallel workers share one home, and a
    setting another worker changes meanwhile stamps it (failed so in CI)."""
    path = tmp_path / setting_values.STAMP_FILE
    monkeypatch.setattr(setting_values, "_stamp_path", lambda: path)
    return path


@pytest.mark.django_db
def test_agents_see_a_change_made_elsewhere_within_a_second_and_one_made_here_at_once(
    monkeypatch: pytest.MonkeyPatch, own_stamp: Path
) -> None:
    assert setting_values.AGENT_SETTINGS_SECONDS <= 1.0
    # The copy is kept for an hour while the table changes under it, then let go (an age
    # of 0: what a second later is), whatever the machine's load does to the clock.
    monkeypatch.setattr(setting_values, "AGENT_SETTINGS_SECONDS", 3600.0)
    default = definition("PROLOG_FREQ").default
    assert agent_settings()["PROLOG_FREQ"] == default
    # Another process writes the table: this process keeps its copy for a while.
    Setting.objects.update_or_create(name="PROLOG_FREQ", defaults={"value": "7"})
    assert agent_settings()["PROLOG_FREQ"] == default
    monkeypatch.setattr(setting_values, "AGENT_SETTINGS_SECONDS", 0.0)
    assert agent_settings()["PROLOG_FREQ"] == 7
    monkeypatch.setattr(setting_values, "AGENT_SETTINGS_SECONDS", 3600.0)
    assert agent_settings()["PROLOG_FREQ"] == 7
    setting_values.set_global("PROLOG_FREQ", 3)
    assert agent_settings()["PROLOG_FREQ"] == 3
    setting_values.reset_global("PROLOG_FREQ")
    assert agent_settings()["PROLOG_FREQ"] == default


@pytest.mark.django_db
def test_a_change_committed_by_another_process_of_this_home_reaches_agents_at_once(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any, own_stamp: Path
) -> None:
    monkeypatch.setattr(setting_values, "AGENT_SETTINGS_SECONDS", 3600.0)
    default = definition("PROLOG_FREQ").default
    assert agent_settings()["PROLOG_FREQ"] == default
    # Another process of this home writes the table, then, once committed, the stamp.
    Setting.objects.update_or_create(name="PROLOG_FREQ", defaults={"value": "7"})
    assert agent_settings()["PROLOG_FREQ"] == default
    setting_values._touch_stamp()
    assert agent_settings()["PROLOG_FREQ"] == 7
    # Two changes in a row are two stamps, however close together.
    Setting.objects.update_or_create(name="PROLOG_FREQ", defaults={"value": "8"})
    setting_values._touch_stamp()
    assert agent_settings()["PROLOG_FREQ"] == 8
    # set_global stamps after its commit, not before (a reader would cache the old value).
    before = setting_values._stamp()
    with django_capture_on_commit_callbacks(execute=True):
        set_global("PROLOG_FREQ", 9)
        assert setting_values._stamp() == before
    assert setting_values._stamp() != before
