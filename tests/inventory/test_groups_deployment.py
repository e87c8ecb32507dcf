"""Deploying to a dynamic group reaches computers that join it later (issue 7, "What must be
true"), through the agent endpoint with the Unix agent's captured payloads."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from ocelot.deployment.activation import activate
from ocelot.deployment.assignment import assign_to_group
from ocelot.deployment.build import PackageRequest, build_package
from ocelot.deployment.groups import group_statistics
from ocelot.deployment.models import Activation, Assignment
from ocelot.inventory import groups
from ocelot.inventory.models import Computer
from ocelot.inventory.search import Criterion
from ocelot.inventory.setting_values import set_global, set_override

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parents[1] / "data"
UNIX_UA = "OCS-NG_unified_unix_agent_v2.10.0"
DEVICE = "vm-2026-11-21-17-46-56"  # the captured inventory's DEVICEID
DEBIAN = [Criterion("os", "EQUAL", "*debian*")]


@pytest.fixture(autouse=True)
def _deployment_on(settings: Any, tmp_path: Path) -> None:
    settings.CONFIG = dataclasses.replace(settings.CONFIG, home=tmp_path / "home")
    set_global("DOWNLOAD", 1)


def activated(name: str) -> Activation:
    package = build_package(PackageRequest(name=name, os="linux", action="EXECUTE", command="true"), None)
    return activate(package, "ocs.example.org/download", "ocs.example.org/download", check=False).activation


def post(client: Client, xml: bytes) -> ET.Element:
    response = client.post(
        "/ocsinventory",
        data=zlib.compress(xml),
        content_type="application/x-compress",
        HTTP_USER_AGENT=UNIX_UA,
    )
    assert response.status_code == 200, response.content[:200]
    return ET.fromstring(zlib.decompress(response.content))


def send_inventory(client: Client, os_name: str) -> None:
    """The captured Unix inventory, as if the machine now ran ``os_name``."""
    xml = (DATA / "unix-agent-2.10-inventory.xml").read_bytes()
    post(client, xml.replace(b"<OSNAME>Debian GNU/Linux 12</OSNAME>", f"<OSNAME>{os_name}</OSNAME>".encode()))


def announced(client: Client) -> list[str]:
    """The package ids the PROLOG reply announces."""
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<REQUEST>\n  <DEVICEID>{DEVICE}</DEVICEID>\n'
        "  <QUERY>PROLOG</QUERY>\n</REQUEST>\n"
    ).encode()
    root = post(client, body)
    return [param.get("ID", "") for param in root.iter("PARAM") if param.get("TYPE") == "PACK"]


def test_a_computer_whose_inventory_starts_matching_gets_the_groups_package_and_leaves_when_it_stops(
    client: Client,
) -> None:
    group = groups.create_group("Debian hosts", criteria=DEBIAN)
    activation = activated("debian-tools")
    assert assign_to_group(activation, group).total == 0  # nobody matches yet

    send_inventory(client, "Fedora Linux 40")
    computer = Computer.objects.get(device_id=DEVICE)
    assert groups.member_ids(group) == []
    assert announced(client) == []

    send_inventory(client, "Debian GNU/Linux 12")
    assert groups.member_ids(group) == [computer.pk]
    assert announced(client) == [str(activation.package.package_id)]
    assert Assignment.objects.get(computer=computer).status == "NOTIFIED"

    send_inventory(client, "Fedora Linux 40")
    assert groups.member_ids(group) == []
    # A package assigned to the group from then on does not reach it.
    later = activated("later")
    assign_to_group(later, group)
    assert str(later.package.package_id) not in announced(client)


def test_the_groups_settings_follow_its_members(client: Client) -> None:
    group = groups.create_group("Debian hosts", criteria=DEBIAN)
    set_override("PROLOG_FREQ", 2, group=group)

    send_inventory(client, "Debian GNU/Linux 12")
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<REQUEST>\n  <DEVICEID>{DEVICE}</DEVICEID>\n'
        "  <QUERY>PROLOG</QUERY>\n</REQUEST>\n"
    ).encode()
    assert post(client, body).findtext("PROLOG_FREQ") == "2"
    send_inventory(client, "Fedora Linux 40")
    assert post(client, body).findtext("PROLOG_FREQ") != "2"


def test_the_group_statistics_count_the_members_assignments_by_status(client: Client) -> None:
    group = groups.create_group("Debian hosts", criteria=DEBIAN)
    activation = activated("debian-tools")
    assign_to_group(activation, group)
    send_inventory(client, "Debian GNU/Linux 12")
    (before,) = group_statistics(group)
    assert before.assigned_to_group and before.total == 0  # its assignment comes at the contact
    announced(client)
    (after,) = group_statistics(group)
    assert after.categories["notified"] == 1 and after.statuses == {"NOTIFIED": 1}
