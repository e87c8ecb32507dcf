"""Groups: static lists and dynamic saved searches with a membership cache (issue 7)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ocelot.inventory import groups
from ocelot.inventory.groups import GroupError
from ocelot.inventory.ingest import store_inventory
from ocelot.inventory.models import AccountField, Computer, Group, GroupMember
from ocelot.inventory.search import Criterion
from ocelot.inventory.setting_values import resolve, set_global, set_override
from tests.inventory.computer_factory import make_computer
from tests.inventory.payloads import unix_inventory

pytestmark = pytest.mark.django_db

HOST = "host-a-2026-11-22-00-00-00"
WINDOWS = [Criterion("os", "EQUAL", "*windows*")]


def kinds(group: Group) -> dict[str, str]:
    return {
        row.computer.name: row.kind
        for row in GroupMember.objects.filter(group=group).select_related("computer")
    }


def members(group: Group) -> list[str]:
    return sorted(Computer.objects.filter(pk__in=groups.member_ids(group)).values_list("name", flat=True))


@pytest.fixture
def fleet() -> dict[str, Computer]:
    return {
        "win1": make_computer("win1", os_name="Microsoft Windows 10 Pro", installed=["Mozilla Firefox"]),
        "win2": make_computer("win2", os_name="Microsoft Windows 11 Pro"),
        "deb1": make_computer("deb1", os_name="Debian GNU/Linux 12", installed=["Mozilla Firefox"]),
    }


def test_a_dynamic_group_holds_the_computers_its_search_finds(fleet: dict[str, Computer]) -> None:
    group = groups.create_group("Windows", criteria=WINDOWS)
    assert members(group) == ["win1", "win2"]
    assert set(kinds(group).values()) == {GroupMember.DYNAMIC}
    assert group.computed_at is not None
    assert groups.cache_age(group) is not None and groups.cache_age(group) < timedelta(minutes=1)


def test_the_search_is_stored_in_the_form_the_search_takes_and_read_back() -> None:
    criteria = [Criterion("software", "EQUAL", "*fox*"), Criterion("memory", "BETWEEN", "1024", "4096")]
    group = groups.create_group("Foxes", criteria=criteria)
    group.refresh_from_db()
    assert group.criteria == [
        {"field": "software", "operator": "EQUAL", "value": "*fox*", "value2": ""},
        {"field": "memory", "operator": "BETWEEN", "value": "1024", "value2": "4096"},
    ]
    assert groups.criteria_of(group) == criteria


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        ([], "at least one"),
        ([Criterion("no_such_field", "EQUAL", "x")], "refused"),
        ([Criterion("memory", "EQUAL", "lots")], "refused"),
        ([Criterion("os", "LESS", "x")], "refused"),
    ],
)
def test_a_search_the_search_refuses_makes_no_group(criteria: list[Criterion], message: str) -> None:
    with pytest.raises(GroupError, match=message):
        groups.create_group("Broken", criteria=criteria)
    assert not Group.objects.exists()


@pytest.mark.parametrize("name", ["", "   ", "x" * 256])
def test_a_group_name_is_1_to_255_characters(name: str) -> None:
    with pytest.raises(GroupError, match="1 to 255"):
        groups.create_group(name)


def test_group_names_are_unique() -> None:
    groups.create_group("Lab")
    with pytest.raises(GroupError, match="exists already"):
        groups.create_group(" Lab ")
    assert Group.objects.count() == 1


def test_forced_and_excluded_computers_survive_a_recompute(fleet: dict[str, Computer]) -> None:
    group = groups.create_group("Windows", criteria=WINDOWS)
    groups.force_in(group, [fleet["deb1"].pk])
    groups.exclude(group, [fleet["win2"].pk])
    outcome = groups.recompute(group)
    assert (outcome.joined, outcome.left) == (0, 0)
    assert kinds(group) == {"win1": "dynamic", "win2": "excluded", "deb1": "static"}
    assert members(group) == ["deb1", "win1"]


def test_a_recompute_adds_new_matches_and_drops_computers_that_stopped_matching(
    fleet: dict[str, Computer],
) -> None:
    group = groups.create_group("Windows", criteria=WINDOWS)
    Computer.objects.filter(pk=fleet["win2"].pk).update(os_name="Debian GNU/Linux 12")
    make_computer("win3", os_name="Microsoft Windows Server 2022")
    outcome = groups.recompute(group)
    assert (outcome.joined, outcome.left) == (1, 1)
    assert members(group) == ["win1", "win3"]


def test_releasing_a_mark_lets_the_search_decide_again(fleet: dict[str, Computer]) -> None:
    group = groups.create_group("Windows", criteria=WINDOWS)
    groups.exclude(group, [fleet["win1"].pk])
    groups.force_in(group, [fleet["deb1"].pk])
    assert groups.release(group, [fleet["win1"].pk, fleet["deb1"].pk]) == 2
    assert kinds(group) == {"win1": "dynamic", "win2": "dynamic"}


def test_removing_from_a_dynamic_group_excludes_and_from_a_static_group_forgets(
    fleet: dict[str, Computer],
) -> None:
    dynamic = groups.create_group("Windows", criteria=WINDOWS)
    static = groups.create_group("Lab")
    groups.force_in(static, [fleet["win1"].pk, fleet["deb1"].pk])
    groups.remove(dynamic, [fleet["win1"].pk])
    groups.remove(static, [fleet["win1"].pk])
    assert kinds(dynamic) == {"win1": "excluded", "win2": "dynamic"}
    assert kinds(static) == {"deb1": "static"}


def test_adding_an_unknown_computer_adds_nothing(fleet: dict[str, Computer]) -> None:
    group = groups.create_group("Lab")
    with pytest.raises(GroupError, match="No computer with id 999999"):
        groups.force_in(group, [fleet["win1"].pk, 999999])
    assert kinds(group) == {}


def test_users_add_computers_only_to_visible_static_groups(fleet: dict[str, Computer]) -> None:
    hidden = groups.create_group("Hidden")
    visible = groups.create_group("Firefox for all", visible=True)
    dynamic = groups.create_group("Windows", visible=True, criteria=WINDOWS)
    assert groups.force_in(visible, [fleet["deb1"].pk], administrator=False) == 1
    for group in (hidden, dynamic):
        with pytest.raises(GroupError, match="Only administrators"):
            groups.force_in(group, [fleet["deb1"].pk], administrator=False)
    assert groups.force_in(hidden, [fleet["deb1"].pk], administrator=True) == 1


def test_a_static_group_that_becomes_dynamic_is_computed_and_back_again_loses_its_computed_members(
    fleet: dict[str, Computer],
) -> None:
    group = groups.create_group("Lab")
    groups.force_in(group, [fleet["deb1"].pk])
    groups.update_group(group, criteria=WINDOWS)
    assert members(group) == ["deb1", "win1", "win2"]
    group.criteria = None
    group.save()
    groups.recompute(group)
    assert members(group) == ["deb1"]
    assert groups.cache_age(group) is None


def test_summaries_count_computed_forced_and_excluded_members(fleet: dict[str, Computer]) -> None:
    group = groups.create_group("Windows", criteria=WINDOWS)
    groups.force_in(group, [fleet["deb1"].pk])
    groups.exclude(group, [fleet["win2"].pk])
    groups.create_group("Empty")
    listed = {item.group.name: item for item in groups.summaries()}
    assert (listed["Windows"].computed, listed["Windows"].forced, listed["Windows"].excluded) == (1, 1, 1)
    assert listed["Windows"].members == 2 and listed["Windows"].dynamic
    assert listed["Empty"].members == 0 and not listed["Empty"].dynamic


def test_only_groups_whose_cache_is_older_than_the_setting_are_recomputed_by_the_schedule(
    fleet: dict[str, Computer],
) -> None:
    set_global("GROUPS_CACHE_REVALIDATE", 3600)
    fresh = groups.create_group("Fresh", criteria=WINDOWS)
    old = groups.create_group("Old", criteria=WINDOWS)
    Group.objects.filter(pk=old.pk).update(computed_at=timezone.now() - timedelta(hours=2))
    make_computer("win3", os_name="Microsoft Windows 7")
    assert [outcome.group.name for outcome in groups.recompute_stale()] == ["Old"]
    assert members(old) == ["win1", "win2", "win3"]
    assert members(fresh) == ["win1", "win2"]


def test_a_group_whose_search_became_invalid_is_left_as_it_was(fleet: dict[str, Computer]) -> None:
    AccountField.objects.create(name="Room", kind="text")
    group = groups.create_group("Room 1", criteria=[Criterion("account:Room", "EQUAL", "1")])
    groups.force_in(group, [fleet["win1"].pk])
    AccountField.objects.filter(name="Room").delete()
    with pytest.raises(GroupError, match="no longer valid"):
        groups.recompute(group)
    assert groups.recompute_all() == []
    groups.update_memberships(fleet["win1"].pk)
    assert members(group) == ["win1"]


def test_deleting_a_group_keeps_its_computers(fleet: dict[str, Computer]) -> None:
    group = groups.create_group("Windows", criteria=WINDOWS)
    groups.delete_group(group)
    assert Computer.objects.count() == 3 and not GroupMember.objects.exists()


# ---------------------------------------------------------------- after each inventory


def test_a_computer_whose_new_inventory_matches_joins_and_one_that_stops_matching_leaves() -> None:
    group = groups.create_group("Debian hosts", criteria=[Criterion("os", "EQUAL", "*debian*")])
    static = groups.create_group("Lab")
    store_inventory(unix_inventory(device_id=HOST))
    computer = Computer.objects.get(device_id=HOST)
    assert groups.member_ids(group) == [computer.pk]
    groups.force_in(static, [computer.pk])

    store_inventory(unix_inventory(device_id=HOST, replace={b"Debian": b"Fedora"}))
    assert groups.member_ids(group) == []
    # Forced in by hand: the inventory changes nothing.
    assert groups.member_ids(static) == [computer.pk]


def test_an_excluded_computer_stays_out_whatever_its_inventory_says() -> None:
    store_inventory(unix_inventory(device_id=HOST))
    computer = Computer.objects.get(device_id=HOST)
    group = groups.create_group("Debian hosts", criteria=[Criterion("os", "EQUAL", "*debian*")])
    groups.exclude(group, [computer.pk])
    store_inventory(unix_inventory(device_id=HOST))
    assert kinds(group) == {computer.name: "excluded"}


def test_the_inventory_update_evaluates_the_searches_for_that_computer_only() -> None:
    for index in range(45):
        groups.create_group(f"g{index}", criteria=[Criterion("name", "EQUAL", f"host-{index}*")])
    target = make_computer("host-7")
    for index in range(20):
        make_computer(f"other-{index}")
    with CaptureQueriesContext(connection) as queries:
        groups.update_memberships(target.pk)
    # The group list, two evaluations of at most 40 searches each, the current memberships,
    # the insert.
    assert len(queries.captured_queries) <= 5
    assert [group.name for group, kind in groups.groups_of(target.pk)] == ["g7"]


def test_without_dynamic_groups_an_inventory_costs_one_query_more() -> None:
    target = make_computer("host")
    groups.create_group("Static")
    with CaptureQueriesContext(connection) as queries:
        groups.update_memberships(target.pk)
    assert len(queries.captured_queries) == 1


def test_group_settings_reach_computers_that_join_a_dynamic_group() -> None:
    group = groups.create_group("Debian hosts", criteria=[Criterion("os", "EQUAL", "*debian*")])
    set_override("FREQUENCY", 3, group=group)
    store_inventory(unix_inventory(device_id=HOST))
    computer = Computer.objects.get(device_id=HOST)
    assert resolve(computer.pk)["FREQUENCY"] == 3
    groups.exclude(group, [computer.pk])
    assert resolve(computer.pk)["FREQUENCY"] != 3


def test_a_tag_changed_in_the_console_moves_the_computer_between_dynamic_groups_at_once() -> None:
    from ocelot.inventory.mass_actions import update_account_info

    computer = make_computer("pc", tag="LYON")
    paris = groups.create_group("Paris", criteria=[Criterion("tag", "EQUAL", "PARIS")])
    lyon = groups.create_group("Lyon", criteria=[Criterion("tag", "EQUAL", "LYON")])
    assert groups.member_ids(lyon) == [computer.pk]
    update_account_info(computer, tag="PARIS", values={}, audit=lambda *args, **kwargs: None)
    assert groups.member_ids(paris) == [computer.pk] and groups.member_ids(lyon) == []
