"""Reading computers: list columns and pages, TAG repartition, dashboard figures, the
computer page's sections and settings; and the changes made from the console (mass actions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ocelot.inventory import computer_queries as queries
from ocelot.inventory.ingest import store_inventory
from ocelot.inventory.mass_actions import (
    MassActionError,
    apply_settings,
    delete_computers,
    update_account_info,
    update_computer_settings,
)
from ocelot.inventory.models import (
    SECTION_MODELS,
    AccountField,
    AccountValue,
    Computer,
    Group,
    GroupMember,
    OtherSection,
    SettingOverride,
    SoftwareInstallation,
)
from ocelot.inventory.setting_values import set_global, set_override
from tests.inventory.computer_factory import make_computer
from tests.inventory.payloads import unix_inventory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class Audit:
    """Collects what the mass actions report, as the doors' audit log would."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str, dict[str, Any]]] = []

    def __call__(self, action: str, target: str = "", /, **details: Any) -> None:
        self.entries.append((action, target, details))

    @property
    def actions(self) -> list[str]:
        return [action for action, _target, _details in self.entries]


# ---------------------------------------------------------------- list


def test_columns_are_checked_against_the_allow_list_and_name_comes_first() -> None:
    assert queries.parse_columns(["memory", "name", "memory", "tag"]) == ["name", "memory", "tag"]
    assert queries.parse_columns(["serial"]) == ["name", "serial"]
    for bad in (["password"], ["name", "extra"], []):
        with pytest.raises(queries.ListError):
            queries.parse_columns(bad)


def test_saved_columns_drop_unknown_keys_and_fall_back_to_the_defaults() -> None:
    assert queries.saved_columns(["memory", "gone"]) == ["name", "memory"]
    assert queries.saved_columns([]) == list(queries.DEFAULT_COLUMNS)
    assert queries.saved_columns("not a list") == list(queries.DEFAULT_COLUMNS)


@pytest.mark.parametrize("raw", ["name", "-name", "memory", "-serial", "tag"])
def test_sort_keys_are_column_keys_with_an_optional_minus(raw: str) -> None:
    assert queries.parse_sort(raw) == (raw.lstrip("-"), raw.startswith("-"))


@pytest.mark.parametrize("raw", ["id", "password", "name,id", "--name", "bios__extra", "-"])
def test_other_sort_keys_are_refused(raw: str) -> None:
    with pytest.raises(queries.ListError):
        queries.parse_sort(raw)


@pytest.mark.parametrize("raw", [7, "0", "lots", None, 100_000])
def test_page_sizes_come_from_the_allow_list(raw: Any) -> None:
    with pytest.raises(queries.ListError):
        queries.parse_page_size(raw)


def test_a_list_page_has_the_chosen_columns_and_marks_own_settings() -> None:
    first = make_computer("a", tag="PARIS", memory=1024, bios={"system_serial": "S1"})
    make_computer("b", tag=None, memory=None)
    set_override("FREQUENCY", 3, computer=first)
    page = queries.list_page(Computer.objects.all(), columns=["name", "tag", "serial", "memory"])
    assert page.total == 2
    assert [row.cells for row in page.rows] == [["a", "PARIS", "S1", 1024], ["b", "", "", None]]
    assert [row.marked for row in page.rows] == [True, False]
    assert [column.key for column, _value in page.rows[0].items] == ["name", "tag", "serial", "memory"]


def test_empty_values_sort_last_in_both_directions() -> None:
    make_computer("none", memory=None)
    make_computer("small", memory=512)
    make_computer("big", memory=4096)
    up = queries.list_page(Computer.objects.all(), sort="memory")
    down = queries.list_page(Computer.objects.all(), sort="-memory")
    assert [row.computer.name for row in up.rows] == ["small", "big", "none"]
    assert [row.computer.name for row in down.rows] == ["big", "small", "none"]


def test_pages_follow_the_sort_order_without_gaps() -> None:
    for number in range(23):
        make_computer(f"pc-{number:02d}", memory=number % 5)
    seen = []
    for page_number in (1, 2, 3):
        page = queries.list_page(
            Computer.objects.all(), sort="-memory", page_number=page_number, page_size=10
        )
        seen += [row.computer.name for row in page.rows]
    assert sorted(seen) == sorted(f"pc-{n:02d}" for n in range(23))
    memories = [Computer.objects.get(name=name).memory for name in seen]
    assert memories == sorted(memories, reverse=True)


def test_export_rows_start_with_the_header_and_list_every_computer() -> None:
    for number in range(3):
        make_computer(f"pc-{number}", tag="T")
    rows = list(queries.export_rows(Computer.objects.all(), columns=["name", "tag"]))
    assert rows == [["Name", "TAG"], ["pc-0", "T"], ["pc-1", "T"], ["pc-2", "T"]]


# ---------------------------------------------------------------- TAGs and dashboard


def test_the_tag_repartition_counts_per_tag_and_gathers_empty_and_missing_tags() -> None:
    for name, tag in (("a", "PARIS"), ("b", "PARIS"), ("c", "LYON"), ("d", ""), ("e", None)):
        make_computer(name, tag=tag)
    assert queries.tag_repartition(Computer.objects.all()) == [
        queries.TagCount("", 2),
        queries.TagCount("PARIS", 2),
        queries.TagCount("LYON", 1),
    ]


def test_the_dashboard_counts_recent_contacts_and_the_most_common_values() -> None:
    for hours, os_name in ((1, "Debian"), (30, "Debian"), (24 * 10, "Windows"), (24 * 40, "Windows")):
        make_computer(
            f"seen-{hours}", os_name=os_name, user_agent="agent", last_contact_at=NOW - timedelta(hours=hours)
        )
    make_computer("imported", os_name="macOS")
    figures = queries.dashboard(Computer.objects.all(), now=NOW, top=2)
    assert (figures.total, figures.seen_day, figures.seen_week, figures.seen_month) == (5, 1, 2, 3)
    assert figures.never_seen == 1
    assert figures.operating_systems == [
        queries.Share("Debian", 2),
        queries.Share("Windows", 2),
        queries.Share("", 1, other=True),
    ]
    assert figures.agents == [queries.Share("agent", 4), queries.Share("", 1)]


# ---------------------------------------------------------------- the computer page


def test_the_computer_detail_has_every_section_of_a_real_inventory() -> None:
    store_inventory(unix_inventory(tag="PARIS"))
    computer = Computer.objects.get()
    detail = queries.computer_detail(computer)
    tables = {table.key: table for table in detail.sections}
    assert detail.tag == "PARIS"
    assert tables["software"].count == SoftwareInstallation.objects.count()
    assert tables["software"].columns[:3] == ["Name", "Publisher", "Version"]
    assert tables["networks"].count == computer.networks.count()
    # The Unix agent sends an empty BIOS section: no table for it.
    assert tables["bios"].rows == []


def test_every_section_is_listed_in_order_and_empty_ones_have_no_rows() -> None:
    computer = make_computer("a", printers=["laser"])
    detail = queries.computer_detail(computer)
    keys = [table.key for table in detail.sections]
    assert keys[: len(queries.SECTION_LABELS)] == list(queries.SECTION_LABELS)
    assert set(keys) == {*SECTION_MODELS, "software"}
    tables = {table.key: table for table in detail.sections}
    assert tables["printers"].rows == [["laser"]]
    assert tables["software"].rows == []
    empty = [table for key, table in tables.items() if key not in ("printers", "software")]
    assert all(table.rows == [] and table.columns == [] for table in empty)
    assert detail.others == []


def test_one_row_sections_read_as_label_value_pairs() -> None:
    computer = make_computer("a", bios={"system_serial": "SN-1", "bios_version": "A12"})
    detail = queries.computer_detail(computer)
    (bios,) = [table for table in detail.sections if table.key == "bios"]
    assert bios.pairs == [("System serial", "SN-1"), ("BIOS version", "A12")]
    assert detail.bios is not None and detail.bios.system_serial == "SN-1"


def test_columns_empty_on_every_row_are_left_out() -> None:
    computer = make_computer("a", printers=["laser", "inkjet"])
    table = next(t for t in queries.computer_detail(computer).sections if t.key == "printers")
    assert table.columns == ["Name"]
    assert table.rows == [["laser"], ["inkjet"]]


def test_sections_without_a_model_are_shown_as_sent() -> None:
    computer = make_computer("a")
    OtherSection.objects.create(computer=computer, tag="ENVS", data={"KEY": "PATH", "VAL": "/bin"})
    OtherSection.objects.create(computer=computer, tag="ENVS", data={"KEY": "HOME"})
    (table,) = queries.computer_detail(computer).others
    assert table.label == "ENVS"
    assert table.columns == ["KEY", "VAL"]
    assert table.rows == [["PATH", "/bin"], ["HOME", ""]]


def test_the_settings_show_own_values_and_what_is_in_effect() -> None:
    computer = make_computer("a", networks=[{"subnet": "10.0.1.0"}, {"subnet": "10.0.2.0"}])
    group = Group.objects.create(name="slow")
    GroupMember.objects.create(group=group, computer=computer)
    set_override("PROLOG_FREQ", 12, group=group)
    set_override("FREQUENCY", 5, computer=computer)
    set_global("DOWNLOAD_TIMEOUT", 9)
    SettingOverride.objects.create(computer=computer, name="IPDISCOVER", value="forced:10.0.2.0")
    detail = queries.computer_detail(computer)
    entries = {entry.name: entry for entry in detail.settings}
    assert [entry.name for entry in detail.settings] == list(queries.COMPUTER_SETTINGS)
    assert (entries["FREQUENCY"].own, entries["FREQUENCY"].effective) == ("5", 5)
    assert (entries["PROLOG_FREQ"].own, entries["PROLOG_FREQ"].effective) == (None, 12)
    assert (entries["DOWNLOAD_TIMEOUT"].own, entries["DOWNLOAD_TIMEOUT"].effective) == (None, 9)
    assert detail.ipdiscover == "forced:10.0.2.0"
    assert detail.networks == ["10.0.1.0", "10.0.2.0"]


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("never", "never"), ("automatic", "automatic"), ("forced:10.0.1.0", "forced:10.0.1.0")],
)
def test_ipdiscover_modes(raw: str, stored: str) -> None:
    assert queries.ipdiscover_mode(raw) == stored


@pytest.mark.parametrize(
    "raw", ["always", "forced:", "forced:10.0.1", "forced:300.0.0.0", "forced:a.b.c.d", "0"]
)
def test_other_ipdiscover_values_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        queries.ipdiscover_mode(raw)


# ---------------------------------------------------------------- mass actions


def test_deleting_computers_removes_their_inventory_and_is_audited_once() -> None:
    kept = make_computer("kept", installed=["vim"])
    make_computer("gone-1", installed=["vim"], account={"Room": "1"})
    make_computer("gone-2", installed=["vim"])
    audit = Audit()
    assert delete_computers(Computer.objects.filter(name__startswith="gone"), audit=audit) == 2
    assert list(Computer.objects.all()) == [kept]
    assert SoftwareInstallation.objects.count() == 1
    assert not AccountValue.objects.exists()
    ((action, target, details),) = audit.entries
    assert (action, target, details["count"]) == ("computers.delete", "2 computers", 2)
    assert details["names"] == "gone-1, gone-2"


def test_deleting_nothing_records_nothing() -> None:
    audit = Audit()
    assert delete_computers(Computer.objects.none(), audit=audit) == 0
    assert audit.entries == []


def test_settings_are_set_and_cleared_on_many_computers() -> None:
    computers = [make_computer(f"pc-{n}") for n in range(3)]
    audit = Audit()
    everything = Computer.objects.all()
    assert apply_settings(everything, {"FREQUENCY": "4", "IPDISCOVER": "never"}, audit=audit) == 3
    assert SettingOverride.objects.filter(name="FREQUENCY", value="4").count() == 3
    assert apply_settings(everything.filter(pk=computers[0].pk), {"FREQUENCY": None}, audit=audit) == 1
    assert SettingOverride.objects.filter(name="FREQUENCY").count() == 2
    assert audit.actions == ["computers.settings", "computers.settings"]
    assert audit.entries[1][1] == f"computer {computers[0].pk} pc-0"


@pytest.mark.parametrize(
    "changes",
    [{"LOCAL_PORT": "80"}, {"FREQUENCY": "soon"}, {"FREQUENCY": "-2"}, {"IPDISCOVER": "sometimes"}],
)
def test_bad_settings_change_nothing(changes: dict[str, str]) -> None:
    make_computer("a")
    audit = Audit()
    with pytest.raises(MassActionError):
        apply_settings(Computer.objects.all(), {"PROLOG_FREQ": "6", **changes}, audit=audit)
    assert not SettingOverride.objects.exists()
    assert audit.entries == []


def test_the_settings_form_writes_only_what_changed() -> None:
    computer = make_computer("a")
    set_override("FREQUENCY", 3, computer=computer)
    audit = Audit()
    changed = update_computer_settings(
        computer, {"FREQUENCY": "3", "PROLOG_FREQ": "", "DOWNLOAD_SWITCH": "0"}, audit=audit
    )
    assert changed == ["DOWNLOAD_SWITCH"]
    assert update_computer_settings(computer, {"FREQUENCY": "3", "DOWNLOAD_SWITCH": "0"}, audit=audit) == []
    assert len(audit.entries) == 1


def test_account_info_is_validated_whole_before_anything_is_written() -> None:
    computer = make_computer("a", tag="PARIS")
    seats = AccountField.objects.create(name="Seats", kind=AccountField.INTEGER)
    bought = AccountField.objects.create(name="Bought", kind=AccountField.DATE)
    audit = Audit()
    with pytest.raises(MassActionError):
        update_account_info(computer, tag="LYON", values={seats.pk: "4", bought.pk: "last year"}, audit=audit)
    computer.refresh_from_db()
    assert computer.account_info.tag == "PARIS"
    assert not AccountValue.objects.exists() and audit.entries == []

    changed = update_account_info(
        computer, tag="LYON", values={seats.pk: "4", bought.pk: "2026-01-31"}, audit=audit
    )
    assert changed == ["TAG", "Seats", "Bought"]
    assert AccountValue.objects.get(field=bought).date.isoformat() == "2026-01-31"
    assert audit.actions == ["computer.account_info"]  # one entry per change, for every door
    assert update_account_info(computer, tag="LYON", values={seats.pk: "4"}, audit=audit) == []


def test_unknown_account_fields_are_refused() -> None:
    computer = make_computer("a")
    with pytest.raises(MassActionError):
        update_account_info(computer, tag=None, values={999_999: "x"}, audit=Audit())


def test_column_labels_write_acronyms_in_capitals() -> None:
    assert queries.column_label("ip address") == "IP address"
    assert queries.column_label("mac") == "MAC"
    assert queries.column_label("l2 cache size") == "L2 cache size"


@pytest.mark.django_db
def test_software_with_only_name_publisher_and_version_still_shows() -> None:
    from tests.inventory.payloads import small_inventory

    store_inventory(
        small_inventory(
            "pc-2026-01-01-00-00-00",
            "<SOFTWARES><NAME>firefox</NAME><PUBLISHER>Mozilla</PUBLISHER><VERSION>128</VERSION></SOFTWARES>",
        )
    )
    detail = queries.computer_detail(Computer.objects.get())
    (software,) = [section for section in detail.sections if section.key == "software"]
    assert software.rows == [["firefox", "Mozilla", "128"]]
