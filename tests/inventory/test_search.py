"""Multi-criteria search (seed 004, "Recherche selon plusieurs critères")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.http import QueryDict

from ocelot.inventory.models import AccountField, Computer, RegistryQuery
from ocelot.inventory.search import (
    Criterion,
    SearchError,
    criteria_from_params,
    criteria_to_params,
    escape_wildcards,
    search,
    search_fields,
)
from tests.inventory.computer_factory import make_computer

pytestmark = pytest.mark.django_db


def names(*criteria: Criterion) -> list[str]:
    return sorted(search(Computer.objects.all(), criteria).values_list("name", flat=True))


@pytest.fixture
def fleet() -> None:
    make_computer(
        "paris-01",
        tag="PARIS",
        os_name="Microsoft Windows 10 Pro",
        memory=8192,
        processor_speed=2400,
        installed=["Mozilla Firefox", "LibreOffice 7.6", "7-Zip"],
        networks=[
            {
                "ip_address": "10.0.1.15",
                "mac": "00:11:22:33:44:55",
                "subnet": "10.0.1.0",
                "gateway": "10.0.1.1",
            }
        ],
        bios={"bios_manufacturer": "Dell Inc.", "bios_version": "A12", "system_serial": "SN-001"},
        drives=[50_000, 1_000],
        monitors=[{"manufacturer": "Samsung", "caption": "SyncMaster", "serial": "MON-1"}],
        logged_in=["alice"],
        workgroup="CORP",
        last_inventory_at=datetime(2026, 3, 10, 14, 0, tzinfo=UTC),
        user_agent="OCS-NG_WINDOWS_AGENT_v2.11.0.1",
        account={"Room": "B12"},
        registry=[("Office version", "16.0")],
    )
    make_computer(
        "paris-02",
        tag="PARIS",
        os_name="Debian GNU/Linux 12",
        memory=2048,
        processor_speed=1800,
        installed=["Mozilla Firefox", "vim"],
        networks=[{"ip_address": "10.0.1.16", "mac": "00:11:22:33:44:66", "subnet": "10.0.1.0"}],
        bios={"bios_manufacturer": "LENOVO", "bios_version": "N1CET52W"},
        drives=[900],
        user_id="bob",
        user_domain="corp.example",
        last_inventory_at=datetime(2026, 3, 11, 9, 0, tzinfo=UTC),
        user_agent="OCS-NG_unified_unix_agent_v2.10.0",
    )
    make_computer(
        "lyon-01",
        tag="LYON",
        os_name="Debian GNU/Linux 12",
        memory=16384,
        processor_speed=3200,
        installed=["vim", "LibreOffice 7.6"],
        networks=[{"ip_address": "192.168.5.2", "mac": "AA:BB:CC:00:00:01", "subnet": "192.168.5.0"}],
        last_inventory_at=datetime(2026, 2, 1, 9, 0, tzinfo=UTC),
        user_agent="OCS-NG_unified_unix_agent_v2.10.0",
        description="50% off_topic",
    )
    make_computer("orphan", tag=None, memory=None)


def test_no_criteria_finds_every_computer(fleet: None) -> None:
    assert names() == ["lyon-01", "orphan", "paris-01", "paris-02"]


def test_a_name_matches_whole_and_case_insensitively(fleet: None) -> None:
    assert names(Criterion("name", "EQUAL", "PARIS-01")) == ["paris-01"]
    assert names(Criterion("name", "EQUAL", "paris")) == []


def test_star_matches_any_run_and_question_mark_one_character(fleet: None) -> None:
    assert names(Criterion("name", "EQUAL", "paris-*")) == ["paris-01", "paris-02"]
    assert names(Criterion("name", "EQUAL", "?yon-0?")) == ["lyon-01"]
    assert names(Criterion("os", "EQUAL", "*windows*")) == ["paris-01"]


def test_percent_underscore_and_backslash_in_values_are_plain_characters(fleet: None) -> None:
    assert names(Criterion("description", "EQUAL", "50% off_topic")) == ["lyon-01"]
    assert names(Criterion("description", "EQUAL", "50%")) == []
    assert names(Criterion("description", "EQUAL", "50_ off*")) == []
    assert names(Criterion("name", "EQUAL", "paris\\-01")) == ["paris-01"]
    assert names(Criterion("name", "EQUAL", "%")) == []
    assert names(Criterion("name", "EQUAL", "_yon-01")) == []


def test_escaped_wildcards_match_themselves() -> None:
    make_computer("star*name?")
    make_computer("starXnameY")
    assert names(Criterion("name", "EQUAL", escape_wildcards("star*name?"))) == ["star*name?"]
    assert names(Criterion("name", "EQUAL", "star*name?")) == ["star*name?", "starXnameY"]


def test_different_is_the_opposite_of_equal(fleet: None) -> None:
    assert names(Criterion("name", "DIFFERENT", "paris-*")) == ["lyon-01", "orphan"]


def test_two_software_criteria_find_computers_having_both(fleet: None) -> None:
    found = names(Criterion("software", "EQUAL", "*firefox*"), Criterion("software", "EQUAL", "libreoffice*"))
    assert found == ["paris-01"]


def test_software_different_finds_computers_without_it(fleet: None) -> None:
    assert names(Criterion("software", "DIFFERENT", "vim")) == ["orphan", "paris-01"]


def test_memory_compares_numerically(fleet: None) -> None:
    assert names(Criterion("memory", "MORE", "8192")) == ["lyon-01"]
    assert names(Criterion("memory", "LESS", "8192")) == ["paris-02"]
    assert names(Criterion("memory", "EQUAL", "8192")) == ["paris-01"]
    assert names(Criterion("memory", "BETWEEN", "2048", "8192")) == ["paris-01", "paris-02"]
    assert names(Criterion("memory", "BETWEEN", "8192", "2048")) == ["paris-01", "paris-02"]
    assert names(Criterion("memory", "OUTSIDE", "2048", "8192")) == ["lyon-01"]
    assert names(Criterion("memory", "DIFFERENT", "8192")) == ["lyon-01", "orphan", "paris-02"]


def test_cpu_speed_and_free_disk_compare_numerically(fleet: None) -> None:
    assert names(Criterion("cpu_speed", "MORE", "2000")) == ["lyon-01", "paris-01"]
    # Some drive with less than 1000 MB free.
    assert names(Criterion("free_disk", "LESS", "1000")) == ["paris-02"]
    assert names(Criterion("free_disk", "MORE", "10000")) == ["paris-01"]


def test_last_inventory_compares_whole_days(fleet: None) -> None:
    assert names(Criterion("last_inventory", "EQUAL", "2026-03-10")) == ["paris-01"]
    assert names(Criterion("last_inventory", "LESS", "2026-03-10")) == ["lyon-01"]
    assert names(Criterion("last_inventory", "MORE", "2026-03-10")) == ["paris-02"]
    assert names(Criterion("last_inventory", "BETWEEN", "2026-03-01", "2026-03-11")) == [
        "paris-01",
        "paris-02",
    ]
    assert names(Criterion("last_inventory", "OUTSIDE", "2026-03-01", "2026-03-10")) == [
        "lyon-01",
        "paris-02",
    ]


def test_network_fields_look_at_every_interface(fleet: None) -> None:
    assert names(Criterion("ip", "EQUAL", "10.0.1.*")) == ["paris-01", "paris-02"]
    assert names(Criterion("mac", "EQUAL", "aa:bb:cc:00:00:01")) == ["lyon-01"]
    assert names(Criterion("network", "EQUAL", "192.168.5.0")) == ["lyon-01"]
    assert names(Criterion("gateway", "EQUAL", "10.0.1.1")) == ["paris-01"]


def test_bios_monitor_domain_user_and_agent_fields(fleet: None) -> None:
    assert names(Criterion("bios_manufacturer", "EQUAL", "dell*")) == ["paris-01"]
    assert names(Criterion("bios_version", "EQUAL", "N1CET52W")) == ["paris-02"]
    assert names(Criterion("serial", "EQUAL", "SN-001")) == ["paris-01"]
    assert names(Criterion("monitor_manufacturer", "EQUAL", "samsung")) == ["paris-01"]
    assert names(Criterion("monitor_description", "EQUAL", "syncmaster")) == ["paris-01"]
    assert names(Criterion("monitor_serial", "EQUAL", "MON-1")) == ["paris-01"]
    assert names(Criterion("domain", "EQUAL", "corp*")) == ["paris-01", "paris-02"]
    assert names(Criterion("user", "EQUAL", "alice")) == ["paris-01"]
    assert names(Criterion("user", "EQUAL", "bob")) == ["paris-02"]
    assert names(Criterion("agent", "EQUAL", "*unix*")) == ["lyon-01", "paris-02"]


def test_tag_equal_and_different_include_computers_without_account_info(fleet: None) -> None:
    assert names(Criterion("tag", "EQUAL", "PARIS")) == ["paris-01", "paris-02"]
    assert names(Criterion("tag", "DIFFERENT", "PARIS")) == ["lyon-01", "orphan"]


def test_an_empty_value_means_empty_or_missing(fleet: None) -> None:
    assert names(Criterion("bios_manufacturer", "EQUAL", "")) == ["lyon-01", "orphan"]
    assert names(Criterion("bios_manufacturer", "DIFFERENT", "")) == ["paris-01", "paris-02"]


def test_account_info_fields_are_searched_by_their_kind(fleet: None) -> None:
    assert names(Criterion("account:Room", "EQUAL", "b12")) == ["paris-01"]
    seats = AccountField.objects.create(name="Seats", kind=AccountField.INTEGER)
    make_computer("hall", account={})
    from ocelot.inventory.account_info import set_value

    set_value(Computer.objects.get(name="hall"), seats, "120")
    set_value(Computer.objects.get(name="paris-01"), seats, "9")
    assert names(Criterion("account:Seats", "MORE", "10")) == ["hall"]
    with pytest.raises(SearchError):
        search(Computer.objects.all(), [Criterion("account:Seats", "MORE", "many")])


def test_registry_values_are_searched_by_query_name_or_any(fleet: None) -> None:
    RegistryQuery.objects.create(name="Office version", key="Software\\Microsoft\\Office", value_name="*")
    assert names(Criterion("registry:Office version", "EQUAL", "16*")) == ["paris-01"]
    assert names(Criterion("registry", "EQUAL", "16.0")) == ["paris-01"]
    assert "registry:Office version" in {item.key for item in search_fields()}


@pytest.mark.parametrize(
    "criterion",
    [
        Criterion("hostname", "EQUAL", "x"),
        Criterion("name); DROP TABLE inventory_computer; --", "EQUAL", "x"),
        Criterion("account:Nope", "EQUAL", "x"),
        Criterion("registry:Nope", "EQUAL", "x"),
        Criterion("name", "LIKE", "x"),
        Criterion("name", "LESS", "x"),
        Criterion("memory", "MORE", "lots"),
        Criterion("memory", "BETWEEN", "1"),
        Criterion("last_inventory", "EQUAL", "yesterday"),
        Criterion("name", "EQUAL", "x" * 300),
    ],
)
def test_fields_operators_and_values_outside_the_allow_lists_are_refused(criterion: Criterion) -> None:
    with pytest.raises(SearchError):
        search(Computer.objects.all(), [criterion])


def test_only_software_and_other_multi_row_fields_may_repeat(fleet: None) -> None:
    with pytest.raises(SearchError):
        search(Computer.objects.all(), [Criterion("name", "EQUAL", "a"), Criterion("name", "EQUAL", "b")])
    search(Computer.objects.all(), [Criterion("software", "EQUAL", "a"), Criterion("software", "EQUAL", "b")])


SQL_INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE inventory_computer; --",
    '" OR 1=1 --',
    "1 OR 1=1",
    "%' OR 1=1 --",
    "\\' OR 1=1 #",
    "*' UNION SELECT password FROM auth_user --",
]


@pytest.mark.parametrize("payload", SQL_INJECTIONS)
def test_sql_injection_payloads_find_nothing_and_change_nothing(fleet: None, payload: str) -> None:
    for item in search_fields():
        if item.kind == "text":
            assert names(Criterion(item.key, "EQUAL", payload)) == [], item.key
        else:
            with pytest.raises(SearchError):
                search(Computer.objects.all(), [Criterion(item.key, "EQUAL", payload)])
    assert Computer.objects.count() == 4


def test_the_query_string_format_round_trips() -> None:
    criteria = [Criterion("software", "EQUAL", "fire*"), Criterion("memory", "BETWEEN", "1", "2")]
    query = QueryDict(mutable=True)
    for key, value in criteria_to_params(criteria):
        query.appendlist(key, value)
    assert criteria_from_params(query) == criteria


def test_blank_rows_are_skipped_and_value2_may_be_left_out() -> None:
    query = QueryDict("field=name&op=equal&value=a&field=&op=EQUAL&value=")
    assert criteria_from_params(query) == [Criterion("name", "EQUAL", "a")]


def test_ragged_parameter_lists_are_refused() -> None:
    with pytest.raises(SearchError):
        criteria_from_params(QueryDict("field=name&field=os&op=EQUAL&value=a&value=b"))


def test_broad_software_patterns_give_the_same_answers(fleet: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Past MAX_INLINE_IDS catalogue entries the search checks each computer's rows instead.
    from ocelot.inventory import search as search_module

    monkeypatch.setattr(search_module, "MAX_INLINE_IDS", 1)
    assert names(Criterion("software", "EQUAL", "*o*"), Criterion("software", "EQUAL", "vim")) == [
        "lyon-01",
        "paris-02",
    ]
    assert names(Criterion("software", "DIFFERENT", "*i*")) == ["orphan"]
    assert names(Criterion("software", "EQUAL", "*firefox*")) == ["paris-01", "paris-02"]


def test_own_settings_are_searchable_and_group_settings_do_not_count() -> None:
    from ocelot.inventory.models import Group
    from ocelot.inventory.setting_values import set_override

    weekly = make_computer("weekly")
    make_computer("default")
    set_override("FREQUENCY", 7, computer=weekly)
    set_override("FREQUENCY", 3, group=Group.objects.create(name="g"))
    assert names(Criterion("own_frequency", "EQUAL", "7")) == ["weekly"]
    assert names(Criterion("own_frequency", "DIFFERENT", "7")) == ["default"]
    assert names(Criterion("own_frequency", "EQUAL", "")) == ["default"]


# ---------------------------------------------------------------- indexes (issue 3, bench/pages.py)


def test_software_criteria_have_an_index_of_installations_by_software_then_computer() -> None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "inventory_softwareinstallation")
    assert any(
        item["index"] and item["columns"] == ["software_id", "computer_id"] for item in constraints.values()
    )


def test_on_postgresql_software_names_are_indexed_for_case_insensitive_patterns() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("an operator-class index exists on PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'inventory_software_name_upper_like'"
        )
        (definition,) = cursor.fetchone()
    assert "upper(name) text_pattern_ops" in definition
