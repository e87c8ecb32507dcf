"""Console group pages (issue 7; issue 4's static groups): list, create, a group's page with
members, settings and deployment statistics, recompute, and adding search results."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from ocelot.accounts.models import AuditEntry
from ocelot.inventory import groups
from ocelot.inventory.models import Computer, Group, GroupMember, SettingOverride
from ocelot.inventory.search import Criterion
from tests.inventory.computer_factory import make_computer

pytestmark = pytest.mark.django_db

WINDOWS = [Criterion("os", "EQUAL", "*windows*")]


@pytest.fixture
def fleet() -> dict[str, Computer]:
    return {
        "win-paris": make_computer("win-paris", tag="PARIS", os_name="Microsoft Windows 10 Pro"),
        "win-lyon": make_computer("win-lyon", tag="LYON", os_name="Microsoft Windows 11 Pro"),
        "deb-paris": make_computer("deb-paris", tag="PARIS", os_name="Debian GNU/Linux 12"),
    }


class Secure:
    """The console answers over HTTPS only: every request of these tests is secure."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def get(self, url: str, data: Any = None, **extra: Any) -> Any:
        return self.client.get(url, data, secure=True, **extra)

    def post(self, url: str, data: Any = None, **extra: Any) -> Any:
        return self.client.post(url, data, secure=True, **extra)


@pytest.fixture
def admin_console(admin_console: Client) -> Secure:
    return Secure(admin_console)


@pytest.fixture
def reader_console(reader_console: Client) -> Secure:
    return Secure(reader_console)


def kinds(group: Group) -> dict[str, str]:
    rows = GroupMember.objects.filter(group=group).select_related("computer")
    return {row.computer.name: row.kind for row in rows}


def page_text(response: Any) -> str:
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_list_shows_kinds_member_counts_and_cache_age(
    admin_console: Secure, fleet: dict[str, Computer]
) -> None:
    dynamic = groups.create_group("Windows", criteria=WINDOWS)
    groups.exclude(dynamic, [fleet["win-lyon"].pk])
    static = groups.create_group("Lab <b>", description="the <lab>")
    groups.force_in(static, [fleet["deb-paris"].pk])
    text = page_text(admin_console.get("/groups/"))
    assert "Lab &lt;b&gt;" in text and "the &lt;lab&gt;" in text
    row = text[text.index(">Windows<") :]
    assert re.search(
        r'dynamic</span></td> <td>no</td> <td class="num">1</td>'
        r' <td class="num">0</td> <td class="num">1</td>',
        row,
    )
    assert "0 minutes ago" in row


def test_the_list_recomputes_groups_whose_cache_is_too_old(
    admin_console: Secure, fleet: dict[str, Computer]
) -> None:
    group = groups.create_group("Windows", criteria=WINDOWS)
    make_computer("win-new", os_name="Windows 7")
    Group.objects.filter(pk=group.pk).update(computed_at=timezone.now() - timedelta(days=2))
    admin_console.get("/groups/")
    assert "win-new" in kinds(group)


def test_an_administrator_creates_a_static_visible_group(admin_console: Secure) -> None:
    response = admin_console.post(
        "/groups/create/", {"name": "Firefox for all", "description": "d", "visible": "1"}
    )
    group = Group.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/groups/{group.pk}/"
    assert (group.visible, group.criteria, group.description) == (True, None, "d")
    assert AuditEntry.objects.filter(action="group.create").exists()


def test_a_bad_name_is_a_message_and_creates_nothing(admin_console: Secure) -> None:
    response = admin_console.post("/groups/create/", {"name": "  "}, follow=True)
    assert "1 to 255 characters" in page_text(response)
    assert not Group.objects.exists()


def test_the_search_page_saves_its_search_as_a_dynamic_group(
    admin_console: Secure, fleet: dict[str, Computer]
) -> None:
    text = page_text(
        admin_console.get("/search/", {"field": "os", "op": "EQUAL", "value": "*windows*", "value2": ""})
    )
    assert "Save as a group" in text and 'name="dynamic"' in text
    response = admin_console.post(
        "/groups/create/",
        {"dynamic": "1", "name": "Windows", "field": "os", "op": "EQUAL", "value": "*windows*", "value2": ""},
    )
    group = Group.objects.get()
    assert response["Location"] == f"/groups/{group.pk}/"
    assert kinds(group) == {"win-paris": "dynamic", "win-lyon": "dynamic"}


def test_a_refused_search_makes_no_group(admin_console: Secure) -> None:
    response = admin_console.post(
        "/groups/create/",
        {"dynamic": "1", "name": "X", "field": "memory", "op": "EQUAL", "value": "lots", "value2": ""},
        follow=True,
    )
    assert "refused" in page_text(response)
    assert not Group.objects.exists()


def test_the_group_page_shows_members_marks_search_and_recompute(
    admin_console: Secure, fleet: dict[str, Computer]
) -> None:
    group = groups.create_group("Windows", criteria=WINDOWS)
    groups.exclude(group, [fleet["win-lyon"].pk])
    groups.force_in(group, [fleet["deb-paris"].pk])
    text = page_text(admin_console.get(f"/groups/{group.pk}/"))
    assert "2 members" in text and "1 forced in, 1 excluded" in text
    assert "Members computed 0" in text and "Recompute now" in text
    assert re.search(r"deb-paris</a></td> <td>[^<]*</td> <td><span class=\"badge\">forced in", text)
    assert re.search(r"win-lyon</a></td> <td>[^<]*</td> <td><span class=\"badge danger\">excluded", text)
    assert "/search/?field=os&amp;op=EQUAL&amp;value=%2Awindows%2A" in text


def test_member_buttons_remove_exclude_force_and_release(
    admin_console: Secure, fleet: dict[str, Computer]
) -> None:
    group = groups.create_group("Windows", criteria=WINDOWS)
    url = f"/groups/{group.pk}/members/"
    admin_console.post(url, {"action": "remove", "ids": [fleet["win-paris"].pk]})
    admin_console.post(url, {"action": "add", "ids": [fleet["deb-paris"].pk]})
    assert kinds(group) == {"win-paris": "excluded", "win-lyon": "dynamic", "deb-paris": "static"}
    admin_console.post(url, {"action": "release", "ids": [fleet["win-paris"].pk, fleet["deb-paris"].pk]})
    assert kinds(group) == {"win-paris": "dynamic", "win-lyon": "dynamic"}
    assert admin_console.post(url, {"action": "nuke", "ids": [1]}).status_code == 400
    assert admin_console.post(url, {"action": "remove", "ids": ["x"]}).status_code == 400


def test_recompute_button(admin_console: Secure, fleet: dict[str, Computer]) -> None:
    group = groups.create_group("Windows", criteria=WINDOWS)
    make_computer("win-new", os_name="Windows 7")
    response = admin_console.post(f"/groups/{group.pk}/recompute/", follow=True)
    assert "Recomputed: 1 joined, 0 left." in page_text(response)


def test_group_settings_are_saved_checked_and_cleared(admin_console: Secure) -> None:
    group = groups.create_group("Lab")
    text = page_text(admin_console.get(f"/groups/{group.pk}/"))
    for name in ("FREQUENCY", "PROLOG_FREQ", "DOWNLOAD_FRAG_LATENCY", "DOWNLOAD_SWITCH", "IPDISCOVER"):
        assert f'name="{name}"' in text
    url = f"/groups/{group.pk}/settings/"
    admin_console.post(url, {"FREQUENCY": "3", "IPDISCOVER": "never", "PROLOG_FREQ": ""})
    assert dict(SettingOverride.objects.filter(group=group).values_list("name", "value")) == {
        "FREQUENCY": "3",
        "IPDISCOVER": "never",
    }
    response = admin_console.post(url, {"FREQUENCY": "-5", "PROLOG_FREQ": "4"}, follow=True)
    assert "FREQUENCY" in page_text(response)
    assert not SettingOverride.objects.filter(name="PROLOG_FREQ").exists()  # all or nothing
    admin_console.post(url, {"FREQUENCY": "", "IPDISCOVER": ""})
    assert not SettingOverride.objects.exists()


def test_edit_and_delete(admin_console: Secure, fleet: dict[str, Computer]) -> None:
    group = groups.create_group("Lab")
    admin_console.post(f"/groups/{group.pk}/edit/", {"name": "Lab 2", "description": "x", "visible": "1"})
    group.refresh_from_db()
    assert (group.name, group.visible) == ("Lab 2", True)
    admin_console.post(f"/groups/{group.pk}/delete/")
    assert not Group.objects.exists() and Computer.objects.count() == 3


# ---------------------------------------------------------------- from the search results


def test_an_administrator_adds_ticked_or_all_results_to_a_static_group(
    admin_console: Secure, fleet: dict[str, Computer]
) -> None:
    group = groups.create_group("Lab")
    text = page_text(
        admin_console.get("/search/", {"field": "os", "op": "EQUAL", "value": "*windows*", "value2": ""})
    )
    assert "Add to group" in text and f'<option value="{group.pk}">Lab</option>' in text
    search = {"field": "os", "op": "EQUAL", "value": "*windows*", "value2": ""}
    admin_console.post(
        "/groups/add/", {**search, "group": group.pk, "scope": "selected", "ids": [fleet["win-lyon"].pk]}
    )
    assert kinds(group) == {"win-lyon": "static"}
    admin_console.post("/groups/add/", {**search, "group": group.pk, "scope": "all", "next": "/search/"})
    assert kinds(group) == {"win-lyon": "static", "win-paris": "static"}


def test_a_user_adds_the_computers_they_see_only_to_visible_groups(
    reader_console: Secure, fleet: dict[str, Computer]
) -> None:
    hidden = groups.create_group("Hidden")
    visible = groups.create_group("Firefox for all", visible=True)
    groups.create_group("Windows", visible=True, criteria=WINDOWS)
    text = page_text(
        reader_console.get("/search/", {"field": "os", "op": "EQUAL", "value": "*", "value2": ""})
    )
    # A mass bar with only "Add to group", and only the visible static group.
    assert "Add to group" in text and "Firefox for all" in text and "Hidden" not in text
    assert 'value="delete"' not in text and "Set a setting" not in text
    assert "Save as a group" not in text
    everything = {"field": "os", "op": "EQUAL", "value": "*", "value2": "", "scope": "all"}
    reader_console.post("/groups/add/", {**everything, "group": visible.pk})
    # Only the PARIS computers this user sees.
    assert kinds(visible) == {"win-paris": "static", "deb-paris": "static"}
    assert reader_console.post("/groups/add/", {**everything, "group": hidden.pk}).status_code == 403
    assert not GroupMember.objects.filter(group=hidden).exists()


def test_a_user_sees_visible_groups_and_only_their_computers_but_changes_nothing(
    reader_console: Secure, fleet: dict[str, Computer]
) -> None:
    hidden = groups.create_group("Hidden")
    visible = groups.create_group("Windows", visible=True, criteria=WINDOWS)
    text = page_text(reader_console.get("/groups/"))
    assert "Windows" in text and "Hidden" not in text and "New static group" not in text
    text = page_text(reader_console.get(f"/groups/{visible.pk}/"))
    assert "win-paris" in text and "win-lyon" not in text and "Save settings" not in text
    assert reader_console.get(f"/groups/{hidden.pk}/").status_code == 403
    for action in ("recompute", "delete", "settings", "members"):
        assert (
            reader_console.post(
                f"/groups/{visible.pk}/{action}/", {"action": "remove", "ids": [1]}
            ).status_code
            == 403
        )
    assert reader_console.post("/groups/create/", {"name": "mine"}).status_code == 403
    assert Group.objects.count() == 2


def test_hostile_names_searches_and_computers_render_as_text(admin_console: Secure) -> None:
    from django.utils.html import escape

    from tests.console.test_computers_hostile_strings import HOSTILE, assert_inert

    for index, text in enumerate(HOSTILE):
        computer = make_computer(text, device_id=f"hostile-{index}", os_name=text, tag=text)
        group = groups.create_group(
            f"{text} {index}", description=text, criteria=[Criterion("tag", "EQUAL", text)], visible=True
        )
        assert groups.member_ids(group) == [computer.pk]
        html = admin_console.get(f"/groups/{group.pk}/").content.decode()
        assert_inert(html)
        assert escape(f"{text} {index}") in html
    assert_inert(admin_console.get("/groups/").content.decode())
    search = admin_console.get("/search/", {"field": "tag", "op": "EQUAL", "value": HOSTILE[1], "value2": ""})
    assert_inert(search.content.decode())


def test_the_computer_page_lists_its_groups_with_the_kind_of_membership(
    admin_console: Secure, reader_console: Secure, fleet: dict[str, Computer]
) -> None:
    dynamic = groups.create_group("Windows", criteria=WINDOWS)
    hidden = groups.create_group("Hidden")
    groups.force_in(hidden, [fleet["win-paris"].pk])
    groups.create_group("Empty", visible=True)
    url = f"/computers/{fleet['win-paris'].pk}/"
    text = page_text(admin_console.get(url))
    assert f'href="/groups/{dynamic.pk}/">Windows</a> — found by the group' in text
    assert f'href="/groups/{hidden.pk}/">Hidden</a> — forced in' in text and ">Empty</a>" not in text
    text = page_text(reader_console.get(url))
    assert "Hidden" not in text and "In no group." in text


@pytest.mark.parametrize(
    ("language", "title", "create"),
    [("fr", "Groupes", "Nouveau groupe statique"), ("es", "Grupos", "Nuevo grupo estático")],
)
def test_the_group_pages_speak_french_and_spanish(
    administrator: Any, admin_console: Secure, language: str, title: str, create: str
) -> None:
    from ocelot.accounts.models import Profile

    Profile.objects.filter(user=administrator).update(language=language)
    text = page_text(admin_console.get("/groups/"))
    assert f"<h1>{title}</h1>" in text and create in text
