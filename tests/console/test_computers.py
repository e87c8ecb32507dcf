"""Console pages for computers: dashboard, list, computer page, TAG repartition (seed 004)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from ocelot.accounts.models import AuditEntry, Profile
from ocelot.inventory.ingest import store_inventory
from ocelot.inventory.models import AccountField, AccountValue, Computer, SettingOverride
from ocelot.inventory.setting_values import set_override
from ocelot.protocol.messages import Inventory, read_request
from ocelot.protocol.xmltree import parse_xml
from tests.inventory.computer_factory import make_computer
from tests.inventory.payloads import DATA, unix_inventory

pytestmark = pytest.mark.django_db


def get(client: Client, url: str, **params: Any) -> Any:
    return client.get(url, params, secure=True)


def post(client: Client, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, data, secure=True)


@pytest.fixture
def fleet() -> dict[str, Computer]:
    now = timezone.now()
    return {
        "paris-01": make_computer(
            "paris-01",
            tag="PARIS",
            os_name="Debian GNU/Linux 12",
            memory=8192,
            user_agent="OCS-NG_unified_unix_agent_v2.10.0",
            last_contact_at=now - timedelta(hours=2),
        ),
        "paris-02": make_computer(
            "paris-02",
            tag="PARIS",
            os_name="Microsoft Windows 11",
            memory=4096,
            user_agent="OCS-NG_WINDOWS_AGENT_v2.11.0.1",
            last_contact_at=now - timedelta(days=3),
        ),
        "lyon-01": make_computer(
            "lyon-01",
            tag="LYON",
            os_name="Debian GNU/Linux 12",
            memory=16384,
            user_agent="OCS-NG_unified_unix_agent_v2.10.0",
            last_contact_at=now - timedelta(days=20),
        ),
    }


# ---------------------------------------------------------------- dashboard


def test_the_dashboard_counts_computers_and_recent_contacts(admin_console: Client, fleet: Any) -> None:
    page = get(admin_console, "/").content.decode()
    figures = [int(item.split("<")[0]) for item in page.split('class="stat">')[1:]]
    assert figures == [3, 1, 2, 3]


def test_the_dashboard_draws_os_and_agent_charts_as_inline_svg(admin_console: Client, fleet: Any) -> None:
    page = get(admin_console, "/").content.decode()
    assert page.count("<svg") == 2
    assert "Debian GNU/Linux 12" in page
    assert "OCS-NG_WINDOWS_AGENT_v2.11.0.1" in page
    assert "style=" not in page
    # Each bar links to the matching computers.
    assert "/computers/?field=os&amp;op=EQUAL&amp;value=Debian+GNU%2FLinux+12" in page


def test_a_tag_restricted_user_counts_only_their_computers(reader_console: Client, fleet: Any) -> None:
    page = get(reader_console, "/").content.decode()
    assert '<span class="stat">2</span>' in page
    assert "LYON" not in page


# ---------------------------------------------------------------- the list


def names_on(page: str) -> list[str]:
    return [chunk.split("</a>")[0] for chunk in page.split('/">')[1:] if chunk.split("</a>")[0] in NAMES]


NAMES = {"paris-01", "paris-02", "lyon-01"}


def test_the_list_shows_every_visible_computer_sorted_by_name(admin_console: Client, fleet: Any) -> None:
    response = get(admin_console, "/computers/")
    assert response.status_code == 200
    assert names_on(response.content.decode()) == ["lyon-01", "paris-01", "paris-02"]


def test_the_list_sorts_by_an_allowed_column_either_way(admin_console: Client, fleet: Any) -> None:
    assert names_on(get(admin_console, "/computers/", sort="memory").content.decode()) == [
        "paris-02",
        "paris-01",
        "lyon-01",
    ]
    assert names_on(get(admin_console, "/computers/", sort="-memory").content.decode()) == [
        "lyon-01",
        "paris-01",
        "paris-02",
    ]
    assert names_on(get(admin_console, "/computers/", sort="-tag").content.decode())[-1] == "lyon-01"


@pytest.mark.parametrize("sort", ["password", "name; DROP TABLE x", "--name", "bios__extra", "id"])
def test_a_sort_key_outside_the_allow_list_is_a_400(admin_console: Client, fleet: Any, sort: str) -> None:
    assert get(admin_console, "/computers/", sort=sort).status_code == 400


def test_a_read_only_user_sees_only_computers_of_their_tags(reader_console: Client, fleet: Any) -> None:
    page = get(reader_console, "/computers/").content.decode()
    assert names_on(page) == ["paris-01", "paris-02"]
    assert 'name="ids"' not in page  # no mass-processing bar
    assert "computer-mass" not in page and "/computers/mass/" not in page


def test_the_list_is_paginated_with_the_users_page_size(
    admin_console: Client, administrator: Any, fleet: Any
) -> None:
    Profile.objects.filter(user=administrator).update(page_size=10)
    for number in range(12):
        make_computer(f"extra-{number:02d}")
    first = get(admin_console, "/computers/").content.decode()
    second = get(admin_console, "/computers/", page=2).content.decode()
    assert "Page 1 of 2" in first
    assert "extra-00" in first and "paris-02" not in first
    assert "paris-02" in second and "extra-00" not in second


def test_the_column_chooser_saves_columns_and_page_size_per_user(
    admin_console: Client, administrator: Any, fleet: Any
) -> None:
    response = post(
        admin_console,
        "/computers/columns/",
        {"columns": ["name", "serial", "memory"], "page_size": "25", "next": "/computers/?sort=-name"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/computers/?sort=-name"
    profile = Profile.objects.get(user=administrator)
    assert profile.computer_columns == ["name", "serial", "memory"]
    assert profile.page_size == 25
    page = get(admin_console, "/computers/").content.decode()
    assert "Serial number" in page
    assert "Operating system</a>" not in page


@pytest.mark.parametrize(
    "data",
    [
        {"columns": ["name", "password"], "page_size": "50"},
        {"columns": ["name"], "page_size": "7"},
        {"columns": ["name"], "page_size": "lots"},
        {"columns": [], "page_size": "50"},
    ],
)
def test_columns_and_page_sizes_outside_the_allow_lists_are_a_400(admin_console: Client, data: Any) -> None:
    assert post(admin_console, "/computers/columns/", data).status_code == 400


def test_the_column_chooser_refuses_a_foreign_next_url(admin_console: Client) -> None:
    response = post(
        admin_console,
        "/computers/columns/",
        {"columns": ["name"], "page_size": "50", "next": "https://evil.example/"},
    )
    assert response["Location"] == "/computers/"


def test_computers_with_their_own_settings_are_marked(admin_console: Client, fleet: Any) -> None:
    set_override("FREQUENCY", 3, computer=fleet["lyon-01"])
    page = get(admin_console, "/computers/").content.decode()
    rows = page.split("<tbody>")[1].split("</tr>")
    marked = [row for row in rows if "own-settings" in row]
    assert len(marked) == 1 and "lyon-01" in marked[0]


def test_the_list_can_be_filtered_by_search_criteria(admin_console: Client, fleet: Any) -> None:
    page = get(
        admin_console, "/computers/", field="tag", op="EQUAL", value="LYON", value2=""
    ).content.decode()
    assert names_on(page) == ["lyon-01"]
    assert "Filtered by" in page


# ---------------------------------------------------------------- TAG repartition


def test_the_tag_page_counts_computers_per_tag_and_links_to_them(admin_console: Client, fleet: Any) -> None:
    make_computer("loose", tag=None)
    page = get(admin_console, "/tags/").content.decode()
    assert '<a href="/computers/?field=tag&amp;op=EQUAL&amp;value=PARIS&amp;value2=">2</a>' in page
    assert '<a href="/computers/?field=tag&amp;op=EQUAL&amp;value=LYON&amp;value2=">1</a>' in page
    assert "(no TAG)" in page
    assert "<svg" in page
    followed = get(
        admin_console, "/computers/", field="tag", op="EQUAL", value="", value2=""
    ).content.decode()
    assert "loose" in followed and "paris-01" not in followed


def test_tag_links_match_tags_with_wildcard_characters_exactly(admin_console: Client) -> None:
    make_computer("starred", tag="A*B")
    make_computer("other", tag="AxxB")
    page = get(admin_console, "/tags/").content.decode()
    assert "value=A%5C%2AB" in page
    followed = get(
        admin_console, "/computers/", field="tag", op="EQUAL", value="A\\*B", value2=""
    ).content.decode()
    assert "starred" in followed and ">other<" not in followed


def test_a_reader_sees_only_their_tags_in_the_repartition(reader_console: Client, fleet: Any) -> None:
    page = get(reader_console, "/tags/").content.decode()
    assert "PARIS" in page and "LYON" not in page


# ---------------------------------------------------------------- the computer page


@pytest.fixture
def inventoried() -> Computer:
    store_inventory(unix_inventory(tag="PARIS"), user_agent="OCS-NG_unified_unix_agent_v2.10.0")
    return Computer.objects.get()


def test_the_computer_page_shows_the_banner_and_every_inventory_section(
    admin_console: Client, inventoried: Computer
) -> None:
    response = get(admin_console, f"/computers/{inventoried.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>vm</h1>" in page
    assert "Debian GNU/Linux 12" in page
    assert "24105 MB" in page
    assert "OCS-NG_unified_unix_agent_v2.10.0" in page
    for section in ("section-software", "section-networks", "section-drives", "section-controllers"):
        assert f'id="{section}"' in page
    software = inventoried.software.select_related("software").first()
    assert software is not None and software.software.name in page


def test_the_banner_names_the_os_once_and_sizes_read_in_gb(
    admin_console: Client, inventoried: Computer
) -> None:
    page = get(admin_console, f"/computers/{inventoried.pk}/").content.decode()
    banner = page.split('class="card banner"')[1].split("</section>")[0]
    # The Unix agent sends OSNAME "Debian GNU/Linux 12" and OSVERSION "12".
    assert "<dd>Debian GNU/Linux 12</dd>" in banner
    assert '<span title="24105 MB">23.5 GB</span>' in banner
    drives = page.split('id="section-drives"')[1].split("</details>")[0]
    assert "<th>Mount point</th>" in drives and "<th>Device</th>" in drives
    assert '<td class="nowrap" title="258019 MB">252.0 GB</td>' in drives
    storage = page.split('id="section-storages"')[1].split("</details>")[0]
    assert '<td class="nowrap" title="274877.906944 MB">268.4 GB</td>' in storage
    assert "274877.906944</td>" not in storage


def test_a_windows_computer_shows_its_drive_letters_and_types(admin_console: Client) -> None:
    windows = read_request(parse_xml((DATA / "windows-agent-2.11-inventory.xml").read_bytes()))
    assert isinstance(windows, Inventory)
    store_inventory(windows, user_agent="OCS-NG_WINDOWS_AGENT_v2.11.0.1")
    computer = Computer.objects.get()
    page = get(admin_console, f"/computers/{computer.pk}/").content.decode()
    drives = page.split('id="section-drives"')[1].split("</details>")[0]
    assert "<th>Drive</th>" in drives and "<th>Drive type</th>" in drives
    assert "Mount point" not in drives
    assert "<td>C:/</td>" in drives and "<td>Hard Drive</td>" in drives
    assert "Microsoft Windows 10 Pro 10.0.19045" in page


def test_a_reader_cannot_open_a_computer_outside_their_tags(reader_console: Client, fleet: Any) -> None:
    assert get(reader_console, f"/computers/{fleet['lyon-01'].pk}/").status_code == 403
    page = get(reader_console, f"/computers/{fleet['paris-01'].pk}/").content.decode()
    assert "<form" not in page.split("</header>")[1]  # read-only: no forms at all


def test_an_administrator_edits_the_tag_and_typed_account_info(
    admin_console: Client, fleet: Any, administrator: Any
) -> None:
    seats = AccountField.objects.create(name="Seats", kind=AccountField.INTEGER)
    computer = fleet["paris-01"]
    response = post(
        admin_console, f"/computers/{computer.pk}/account/", {"tag": "NICE", f"account_{seats.pk}": "12"}
    )
    assert response.status_code == 302
    computer.refresh_from_db()
    assert computer.account_info.tag == "NICE"
    assert AccountValue.objects.get(computer=computer, field=seats).integer == 12
    # One entry per change, the shape the API writes too (tests/api/test_account_info.py).
    entry = AuditEntry.objects.get(action="computer.account_info")
    assert (entry.username, entry.details["tag"], entry.details["fields"]) == ("admin-pages", "NICE", "Seats")
    assert entry.details["changes"] == "TAG: 'PARIS' -> 'NICE'; Seats: '' -> '12'"


def test_a_value_of_the_wrong_kind_is_refused_and_nothing_is_saved(admin_console: Client, fleet: Any) -> None:
    seats = AccountField.objects.create(name="Seats", kind=AccountField.INTEGER)
    computer = fleet["paris-01"]
    response = post(
        admin_console, f"/computers/{computer.pk}/account/", {"tag": "NICE", f"account_{seats.pk}": "twelve"}
    )
    assert response.status_code == 302
    computer.refresh_from_db()
    assert computer.account_info.tag == "PARIS"
    assert not AccountValue.objects.filter(field=seats).exists()
    assert "not a valid integer" in get(admin_console, f"/computers/{computer.pk}/").content.decode()


def test_an_administrator_sets_and_clears_per_computer_settings(admin_console: Client, fleet: Any) -> None:
    computer = fleet["paris-01"]
    form = {"FREQUENCY": "7", "PROLOG_FREQ": "", "DOWNLOAD_SWITCH": "0", "IPDISCOVER": "never"}
    assert post(admin_console, f"/computers/{computer.pk}/settings/", form).status_code == 302
    own = dict(SettingOverride.objects.filter(computer=computer).values_list("name", "value"))
    assert own == {"FREQUENCY": "7", "DOWNLOAD_SWITCH": "0", "IPDISCOVER": "never"}
    assert AuditEntry.objects.filter(action="computers.settings").count() == 1

    form = {"FREQUENCY": "", "PROLOG_FREQ": "", "DOWNLOAD_SWITCH": "0", "IPDISCOVER": ""}
    post(admin_console, f"/computers/{computer.pk}/settings/", form)
    own = dict(SettingOverride.objects.filter(computer=computer).values_list("name", "value"))
    assert own == {"DOWNLOAD_SWITCH": "0"}
    page = get(admin_console, f"/computers/{computer.pk}/").content.decode()
    assert 'name="FREQUENCY" id="setting-FREQUENCY" value=""' in page


def test_ipdiscover_can_be_forced_on_one_of_the_computers_networks(admin_console: Client) -> None:
    computer = make_computer("scanner", networks=[{"ip_address": "10.0.1.5", "subnet": "10.0.1.0"}])
    assert 'value="forced:10.0.1.0"' in get(admin_console, f"/computers/{computer.pk}/").content.decode()
    post(admin_console, f"/computers/{computer.pk}/settings/", {"IPDISCOVER": "forced:10.0.1.0"})
    assert SettingOverride.objects.get(computer=computer, name="IPDISCOVER").value == "forced:10.0.1.0"


@pytest.mark.parametrize(
    "form",
    [
        {"FREQUENCY": "-5"},
        {"FREQUENCY": "often"},
        {"IPDISCOVER": "forced:nowhere"},
        {"DOWNLOAD_TIMEOUT": "0"},
    ],
)
def test_out_of_range_settings_are_refused(admin_console: Client, fleet: Any, form: dict[str, str]) -> None:
    computer = fleet["paris-01"]
    post(admin_console, f"/computers/{computer.pk}/settings/", form)
    assert not SettingOverride.objects.exists()


@pytest.mark.parametrize("action", ["account", "settings", "delete"])
def test_read_only_users_cannot_change_a_computer_even_by_direct_post(
    reader_console: Client, fleet: Any, action: str
) -> None:
    computer = fleet["paris-01"]
    response = post(reader_console, f"/computers/{computer.pk}/{action}/", {"tag": "X", "FREQUENCY": "1"})
    assert response.status_code == 403
    computer.refresh_from_db()
    assert computer.account_info.tag == "PARIS"
    assert not SettingOverride.objects.exists()


def test_state_changes_need_post_and_a_csrf_token(administrator: Any, fleet: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(administrator)
    computer = fleet["paris-01"]
    assert client.get(f"/computers/{computer.pk}/delete/", secure=True).status_code == 405
    assert client.post(f"/computers/{computer.pk}/delete/", secure=True).status_code == 403
    assert Computer.objects.filter(pk=computer.pk).exists()


def test_an_administrator_deletes_one_computer(admin_console: Client, fleet: Any) -> None:
    computer = fleet["lyon-01"]
    assert post(admin_console, f"/computers/{computer.pk}/delete/", {}).status_code == 302
    assert not Computer.objects.filter(pk=computer.pk).exists()
    entry = AuditEntry.objects.get(action="computers.delete")
    assert "lyon-01" in entry.details["names"]


def test_the_settings_units_and_help_speak_the_console_language(
    admin_console: Client, administrator: Any, fleet: Any
) -> None:
    Profile.objects.filter(user=administrator).update(language="fr")
    page = get(admin_console, f"/computers/{fleet['paris-01'].pk}/").content.decode()
    settings = page.split('id="settings"')[1]
    assert "(jours)" in settings and "(days)" not in settings
    assert 'title="Fréquence d&#x27;inventaire en jours' in settings
    assert "<dd>8,0 Go</dd>" in page or '">8,0 Go</span>' in page
