"""SQL queries per computer page are pinned, so N+1 queries cannot creep in (issue 3).

Every console request costs ``REQUEST`` queries before the page's own: the session, the
user, the user's profile (language middleware), then the session save in a savepoint.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from ocelot.inventory.models import SECTION_MODELS, Computer, OtherSection
from ocelot.inventory.setting_values import set_override
from tests.inventory.computer_factory import make_computer

pytestmark = pytest.mark.django_db

REQUEST = 6
# A TAG-restricted user's scope reads their profile once more (accounts.roles.allowed_tags).
SCOPE = 1
# The Deploy menu of the mass-action bar (administrators only) lists the activated packages.
DEPLOY_MENU = 1
# The mass-action bar's "Add to group" lists the static groups the user may add to (issue 7).
GROUP_MENU = 1
# The computer page's Deploy box: the activated packages, this computer's assignments.
DEPLOY_BOX = 2
# The computer page's Groups box: the computer's groups (issue 7).
GROUPS_BOX = 1
TWO_SOFTWARE = (
    "/search/?field=software&op=EQUAL&value=firefox&value2=&field=software&op=EQUAL&value=vim&value2="
)


def populate(count: int) -> list[Computer]:
    computers = []
    for number in range(count):
        computer = make_computer(
            f"pc-{number:03d}",
            tag="PARIS" if number % 2 else "LYON",
            installed=["firefox", "vim", f"tool-{number}"],
            bios={"system_serial": f"SN{number}", "system_model": "T14"},
            networks=[{"ip_address": f"10.0.0.{number}", "subnet": "10.0.0.0"}],
            monitors=[{"manufacturer": "Dell"}],
            account={"Room": f"R{number}", "Floor": "2"},
        )
        set_override("FREQUENCY", 2, computer=computer)
        computers.append(computer)
    return computers


@pytest.mark.parametrize("count", [3, 25])
@pytest.mark.parametrize(
    ("url", "own", "scoped", "mass_bar"),
    [
        ("/", 3, True, False),  # figures, OS shares, agent shares
        # COUNT, the page's ids, their rows with BIOS, TAG and marker
        ("/computers/", 3, True, True),
        ("/computers/?sort=-serial&page=2", 3, True, True),
        ("/tags/", 1, True, False),
        # Account fields and registry queries for the form, the catalogue ids of each
        # software criterion, then the list.
        (TWO_SOFTWARE, 7, True, True),
        ("/search/", 2, False, False),  # the empty form reads no computer
    ],
)
def test_pages_cost_a_fixed_number_of_queries_whatever_the_number_of_computers(
    admin_console: Client,
    reader_console: Client,
    django_assert_num_queries: Any,
    count: int,
    url: str,
    own: int,
    scoped: bool,
    mass_bar: bool,
) -> None:
    populate(count)
    with django_assert_num_queries(REQUEST + own + (DEPLOY_MENU + GROUP_MENU if mass_bar else 0)):
        assert admin_console.get(url, secure=True).status_code == 200
    with django_assert_num_queries(
        REQUEST + (SCOPE if scoped else 0) + own + (GROUP_MENU if mass_bar else 0)
    ):
        assert reader_console.get(url, secure=True).status_code == 200


@pytest.mark.parametrize("count", [3, 25])
def test_the_csv_export_streams_in_a_fixed_number_of_queries(
    admin_console: Client, django_assert_max_num_queries: Any, count: int
) -> None:
    populate(count)
    with django_assert_max_num_queries(REQUEST + 1):
        response = admin_console.get("/computers/export.csv", secure=True)
        body = b"".join(response.streaming_content)
    assert body.count(b"\n") == count + 1


@pytest.mark.parametrize("rows", [1, 40])
def test_the_computer_page_costs_one_query_per_section_with_rows(
    admin_console: Client, django_assert_num_queries: Any, rows: int
) -> None:
    computer = make_computer(
        "big",
        tag="PARIS",
        installed=[f"software-{n}" for n in range(rows)],
        networks=[{"ip_address": f"10.0.0.{n}", "subnet": "10.0.0.0"} for n in range(rows)],
        printers=[f"printer-{n}" for n in range(rows)],
        account={f"Field {n}": "x" for n in range(rows)},
    )
    set_override("FREQUENCY", 2, computer=computer)
    # The computer; which sections have rows; those two (networks, printers) and the
    # software; TAG, account fields and values; own, global and group settings.
    own = 1 + 1 + 2 + 1 + 3 + 3 + DEPLOY_BOX + GROUPS_BOX
    with django_assert_num_queries(REQUEST + own):
        assert admin_console.get(f"/computers/{computer.pk}/", secure=True).status_code == 200


def test_a_computer_with_rows_in_every_section_costs_one_query_per_section(
    admin_console: Client, django_assert_num_queries: Any
) -> None:
    computer = make_computer("full", tag="PARIS", installed=["vim"])
    for model in SECTION_MODELS.values():
        model.objects.create(computer=computer)
    OtherSection.objects.create(computer=computer, tag="ENVS", data={"KEY": "PATH"})
    # The computer; which sections have rows; every section, the software and the other
    # sections; TAG, account fields and values; own, global and group settings.
    own = 1 + 1 + len(SECTION_MODELS) + 1 + 1 + 3 + 3 + DEPLOY_BOX + GROUPS_BOX
    with django_assert_num_queries(REQUEST + own):
        assert admin_console.get(f"/computers/{computer.pk}/", secure=True).status_code == 200
