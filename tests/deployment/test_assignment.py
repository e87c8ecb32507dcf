"""Assignments: to computers, a search's full id set, groups; options; statuses and statistics."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from ocelot.deployment.activation import activate
from ocelot.deployment.assignment import (
    AssignmentOptions,
    assign,
    assign_to_group,
    classify,
    computers_with_status,
    schedule_text,
    statistics,
    unassign,
    unassign_not_notified,
    validate_all,
    validate_success,
)
from ocelot.deployment.build import PackageRequest, build_package
from ocelot.deployment.errors import AssignmentError
from ocelot.deployment.groups import add_to_group, create_static_group, find_group
from ocelot.deployment.models import Activation, Assignment, GroupAssignment
from ocelot.deployment.results import record_result
from ocelot.inventory.models import Computer, GroupMember

pytestmark = pytest.mark.django_db


@pytest.fixture
def activation(settings: Any, tmp_path: Any) -> Activation:
    import dataclasses

    settings.CONFIG = dataclasses.replace(settings.CONFIG, home=tmp_path / "home")
    package = build_package(PackageRequest(name="cmd", os="linux", action="EXECUTE", command="true"), None)
    return activate(package, "ocs.example.org/download", "ocs.example.org/download", check=False).activation


def computers(count: int) -> list[int]:
    return [Computer.objects.create(device_id=f"pc-{number}").pk for number in range(count)]


@pytest.mark.parametrize(
    ("status", "category"),
    [
        ("", "waiting"),
        ("NOTIFIED", "notified"),
        ("SUCCESS", "success"),
        ("SUCCESS_3", "success"),
        ("SUCCESS_ALREADY_SETUP", "success"),
        ("SUCCESS_ALREADY_IN_HISTORY", "success"),
        ("ERR_BAD_DIGEST", "error"),
        ("ERR_EXIT_CODE_3", "error"),
        ("EXIT_CODE_1603", "error"),
        ("UNKNOWN_CODE", "other"),
    ],
)
def test_statuses_are_classified_as_the_ocs_console_counts_them(status: str, category: str) -> None:
    assert classify(status) == category


def test_every_result_of_a_search_gets_the_package_not_only_a_page(activation: Activation) -> None:
    ids = computers(1200)  # more than one batch, and more than any page
    outcome = assign(activation, ids)
    assert (outcome.created, outcome.restarted) == (1200, 0)
    assert Assignment.objects.filter(status="").count() == 1200


def test_assigning_an_unknown_computer_assigns_nothing(activation: Activation) -> None:
    (pk,) = computers(1)
    with pytest.raises(AssignmentError, match="No computer with id 999999"):
        assign(activation, [pk, 999999])
    assert not Assignment.objects.exists()


def test_assigning_again_starts_the_package_over_with_the_new_options(activation: Activation) -> None:
    (pk,) = computers(1)
    assign(activation, [pk])
    Assignment.objects.update(status="ERR_BAD_DIGEST")
    outcome = assign(activation, [pk], AssignmentOptions(force=True, post_command="reboot"))
    assert (outcome.created, outcome.restarted) == (0, 1)
    again = Assignment.objects.get()
    assert (again.status, again.force, again.post_command) == ("", True, "REBOOT")


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2026/12/24 18:30", "2026/12/24 18:30"),
        ("2026-12-24T18:30", "2026/12/24 18:30"),
        ("2026-12-24 18:30:59", "2026/12/24 18:30"),
        (datetime.datetime(2026, 12, 24, 18, 30), "2026/12/24 18:30"),
        ("", ""),
    ],
)
def test_a_schedule_is_stored_as_the_prolog_carries_it(given: Any, stored: str) -> None:
    assert schedule_text(given) == stored


@pytest.mark.parametrize("given", ["tomorrow", "2026/13/01 10:00", "2026/12/24"])
def test_a_schedule_that_is_no_date_is_refused(given: str, activation: Activation) -> None:
    with pytest.raises(AssignmentError):
        assign(activation, computers(1), AssignmentOptions(schedule=given))


def test_a_post_command_is_one_line(activation: Activation) -> None:
    with pytest.raises(AssignmentError):
        assign(activation, computers(1), AssignmentOptions(post_command="a\nb"))


def test_a_static_group_gets_the_package_on_its_members_but_not_the_excluded(activation: Activation) -> None:
    ids = computers(4)
    group = create_static_group("lab", visible=True)
    assert add_to_group(group, ids[:3]) == 3
    GroupMember.objects.filter(group=group, computer_id=ids[2]).update(kind=GroupMember.EXCLUDED)
    GroupMember.objects.create(group=group, computer_id=ids[3], kind=GroupMember.DYNAMIC)

    outcome = assign_to_group(activation, find_group("lab"))

    assert outcome.created == 3
    assert sorted(Assignment.objects.values_list("computer_id", flat=True)) == [ids[0], ids[1], ids[3]]
    (recorded,) = GroupAssignment.objects.all()  # for later members (test_notification)
    assert (recorded.group, recorded.activation) == (group, activation)
    assert unassign(activation.package) == 3
    assert not GroupAssignment.objects.exists()
    with pytest.raises(AssignmentError, match="exists already"):
        create_static_group("lab")


def test_statistics_count_each_status_and_name_the_computers_behind_them(activation: Activation) -> None:
    ids = computers(5)
    assign(activation, ids)
    Assignment.objects.filter(computer_id__in=ids[1:]).update(status="NOTIFIED")
    pid = activation.package.package_id
    record_result("pc-2", pid, "SUCCESS")
    record_result("pc-3", pid, "ERR_BAD_DIGEST")
    record_result("pc-4", pid, "EXIT_CODE_1603")

    stats = statistics(activation.package)

    assert stats.categories == {"waiting": 1, "notified": 1, "success": 1, "error": 2, "other": 0}
    assert stats.statuses == {
        "ERR_BAD_DIGEST": 1,
        "EXIT_CODE_1603": 1,
        "NOTIFIED": 1,
        "SUCCESS": 1,
        "WAITING NOTIFICATION": 1,
    }
    assert computers_with_status(activation.package, "error") == [ids[3], ids[4]]
    assert computers_with_status(activation.package, "WAITING NOTIFICATION") == [ids[0]]


def test_the_three_validation_actions_of_the_seeds(activation: Activation) -> None:
    ids = computers(4)
    assign(activation, ids)
    Assignment.objects.filter(computer_id=ids[1]).update(status="NOTIFIED")
    Assignment.objects.filter(computer_id=ids[2]).update(status="SUCCESS")
    Assignment.objects.filter(computer_id=ids[3]).update(status="ERR_TIMEOUT")
    package = activation.package

    assert validate_success(package) == 1
    assert unassign_not_notified(package) == 1
    assert sorted(Assignment.objects.values_list("status", flat=True)) == ["ERR_TIMEOUT", "NOTIFIED"]
    assign(activation, [ids[0]])
    Assignment.objects.filter(computer_id=ids[1]).update(status="SUCCESS_0")
    assert validate_all(package) == 2
    assert list(Assignment.objects.values_list("status", flat=True)) == ["ERR_TIMEOUT"]
    assert unassign(package) == 1
