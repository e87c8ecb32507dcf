"""``ocelot groups``: JSON out, one-line errors, nothing written on failure."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from ocelot.cli.main import main
from ocelot.inventory.models import Computer, Group, GroupMember
from tests.inventory.computer_factory import make_computer

pytestmark = pytest.mark.django_db


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main(["groups", *argv, "--json"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) == 1
    return json.loads(out)


def fails(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = main(["groups", *argv])
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return status, err


@pytest.fixture
def fleet() -> list[Computer]:
    return [
        make_computer("win1", os_name="Microsoft Windows 10 Pro", memory=2048),
        make_computer("win2", os_name="Microsoft Windows 11 Pro", memory=8192),
        make_computer("deb1", os_name="Debian GNU/Linux 12"),
    ]


def test_create_a_dynamic_group_with_criteria_and_show_its_members(
    capsys: pytest.CaptureFixture[str], fleet: list[Computer]
) -> None:
    created = run_json(capsys, "create", "Windows", "--criterion", "os", "equal", "*windows*")
    assert created["dynamic"] and created["members"] == 2 and created["computed"] == 2
    assert created["criteria"] == [{"field": "os", "operator": "EQUAL", "value": "*windows*", "value2": ""}]
    assert 0 <= created["cache_age_seconds"] < 60

    shown = run_json(capsys, "show", "Windows")
    assert sorted((c["name"], c["kind"]) for c in shown["computers"]) == [
        ("win1", "dynamic"),
        ("win2", "dynamic"),
    ]


def test_create_from_the_consoles_query_string(
    capsys: pytest.CaptureFixture[str], fleet: list[Computer]
) -> None:
    created = run_json(
        capsys,
        "create",
        "Big",
        "--search",
        "field=memory&op=BETWEEN&value=4096&value2=100000&field=os&op=EQUAL&value=*windows*&value2=",
    )
    assert created["members"] == 1 and len(created["criteria"]) == 2


def test_a_static_group_add_exclude_release_and_delete(
    capsys: pytest.CaptureFixture[str], fleet: list[Computer]
) -> None:
    group = run_json(capsys, "create", "Lab", "--visible", "--description", "the lab")
    assert (group["dynamic"], group["visible"], group["members"]) == (False, True, 0)
    assert run_json(capsys, "add", "Lab", str(fleet[0].pk), "deb1", fleet[1].device_id)["add"] == 3
    assert run_json(capsys, "exclude", str(group["id"]), "deb1")["exclude"] == 1
    assert run_json(capsys, "release", "Lab", "win2")["release"] == 1
    (listed,) = run_json(capsys, "list")
    assert (listed["members"], listed["forced"], listed["excluded"]) == (1, 1, 1)
    assert run_json(capsys, "delete", "Lab") == {"id": group["id"], "name": "Lab", "deleted": True}
    assert not Group.objects.exists() and Computer.objects.count() == 3


def test_recompute_reports_who_joined_and_left(
    capsys: pytest.CaptureFixture[str], fleet: list[Computer]
) -> None:
    run_json(capsys, "create", "Windows", "--criterion", "os", "EQUAL", "*windows*")
    Computer.objects.filter(name="win2").update(os_name="Debian")
    make_computer("win3", os_name="Windows 7")
    assert run_json(capsys, "recompute") == [
        {"id": Group.objects.get().pk, "name": "Windows", "joined": 1, "left": 1}
    ]
    assert run_json(capsys, "recompute", "--stale") == []
    Group.objects.update(computed_at=timezone.now() - timedelta(days=1))
    assert [item["name"] for item in run_json(capsys, "recompute", "--stale")] == ["Windows"]


def test_listing_recomputes_groups_whose_cache_is_too_old(
    capsys: pytest.CaptureFixture[str], fleet: list[Computer]
) -> None:
    run_json(capsys, "create", "Windows", "--criterion", "os", "EQUAL", "*windows*")
    make_computer("win3", os_name="Windows 7")
    Group.objects.update(computed_at=timezone.now() - timedelta(days=1))
    (listed,) = run_json(capsys, "list")
    assert listed["members"] == 3 and listed["cache_age_seconds"] < 60


@pytest.mark.parametrize(
    "argv",
    [
        ("create", "Bad", "--criterion", "nosuchfield", "EQUAL", "x"),
        ("create", "Bad", "--criterion", "os", "EQUAL"),
        ("create", "Bad", "--search", "field=os&op=EQUAL"),
        ("create", "Bad", "--search", "field=memory&op=EQUAL&value=lots"),
        ("create", ""),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], argv: tuple[str]
) -> None:
    status, _err = fails(capsys, *argv)
    assert status == 2
    assert not Group.objects.exists()


def test_unknown_groups_and_computers_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], fleet: list[Computer]
) -> None:
    assert fails(capsys, "show", "nope") == (1, "ocelot groups: No group 'nope'.\n")
    run_json(capsys, "create", "Lab")
    status, err = fails(capsys, "add", "Lab", "win1", "no-such-pc")
    assert status == 1 and "no-such-pc" in err
    assert not GroupMember.objects.exists()
