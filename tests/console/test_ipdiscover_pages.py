"""IP discovery pages: counts that link to their lists, register, types, names, scans shown as text."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from ocelot.console import ipdiscover as door
from ocelot.inventory.models import NetworkInterface
from ocelot.ipdiscover.discovered import store_scan
from ocelot.ipdiscover.models import DeviceType, IdentifiedDevice, Scanner, Subnet
from ocelot.protocol.messages import DiscoveredHost
from tests.ipdiscover.factories import computer
from tests.ipdiscover.test_scan import BAD_TARGETS, FakeRunner, nmap_xml

pytestmark = pytest.mark.django_db
NET = "192.168.10.0"


@pytest.fixture
def network(db: None) -> dict[str, Any]:
    scanner = computer(ip="192.168.10.20")
    other = computer(ip="192.168.10.21")
    Scanner.objects.create(computer=scanner, role=Scanner.ELECTED, subnet=NET, netmask="255.255.255.0")
    store_scan(
        [
            DiscoveredHost("192.168.10.21", NetworkInterface.objects.get(computer=other).mac, "other"),
            DiscoveredHost("192.168.10.1", "aa:bb:cc:00:00:01", "<script>alert(1)</script>"),
            DiscoveredHost("192.168.10.9", "aa:bb:cc:00:00:09", "printer"),
        ],
        subnet=NET,
        netmask="255.255.255.0",
        now=timezone.now(),
    )
    return {"scanner": scanner, "other": other}


def page(client: Client, path: str) -> str:
    response = client.get(path, secure=True)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_network_list_shows_each_count_as_a_link_to_its_list(
    admin_console: Client, network: dict[str, Any]
) -> None:
    content = page(admin_console, "/ipdiscover/")
    for which, count in (("inventoried", 2), ("non-inventoried", 2), ("scanners", 1), ("identified", 0)):
        assert f'<a data-count="{which}" href="/ipdiscover/networks/{NET}/{which}/">{count}</a>' in content


def test_markup_in_a_discovered_name_is_shown_as_text(admin_console: Client, network: dict[str, Any]) -> None:
    content = page(admin_console, f"/ipdiscover/networks/{NET}/non-inventoried/")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "<script>alert(1)" not in content


def test_analyse_is_offered_for_a_network_of_at_most_256_addresses(
    admin_console: Client, network: dict[str, Any]
) -> None:
    content = page(admin_console, f"/ipdiscover/networks/{NET}/non-inventoried/")
    assert 'name="target" value="192.168.10.0/24"' in content
    store_scan(
        [DiscoveredHost("172.16.3.4", "aa:bb:cc:00:01:01", "")],
        subnet="172.16.0.0",
        netmask="255.255.0.0",
        now=timezone.now(),
    )
    wide = page(admin_console, "/ipdiscover/networks/172.16.0.0/non-inventoried/")
    assert 'name="mode" value="analyse"' not in wide and "at most 256 addresses" in wide


def test_register_moves_a_device_to_identified(admin_console: Client, network: dict[str, Any]) -> None:
    printer = DeviceType.objects.create(name="Printer")
    response = admin_console.post(
        "/ipdiscover/register/",
        {"mac": "aa:bb:cc:00:00:09", "type": str(printer.pk), "description": "2nd floor", "subnet": NET},
        secure=True,
    )
    assert response.status_code == 302
    assert IdentifiedDevice.objects.get(mac="aa:bb:cc:00:00:09").type == printer
    assert "printer" not in page(admin_console, f"/ipdiscover/networks/{NET}/non-inventoried/")
    identified = page(admin_console, f"/ipdiscover/networks/{NET}/identified/")
    assert "2nd floor" in identified and "Printer" in identified
    forgotten = admin_console.post(
        "/ipdiscover/unregister/", {"mac": "aa:bb:cc:00:00:09", "subnet": NET}, secure=True
    )
    assert forgotten.status_code == 302
    assert not IdentifiedDevice.objects.exists()
    assert "printer" in page(admin_console, f"/ipdiscover/networks/{NET}/non-inventoried/")


def test_device_types_and_subnet_names(admin_console: Client, network: dict[str, Any]) -> None:
    admin_console.post("/ipdiscover/types/new/", {"name": "<i>Router</i>"}, secure=True)
    assert "&lt;i&gt;Router&lt;/i&gt;" in page(admin_console, "/ipdiscover/types/")
    admin_console.post(
        "/ipdiscover/subnets/new/",
        {"name": "DMZ", "identifier": "7", "address": NET, "netmask": "255.255.255.0"},
        secure=True,
    )
    assert Subnet.objects.get().name == "DMZ"
    assert "DMZ" in page(admin_console, "/ipdiscover/")


def test_a_reader_sees_lists_but_cannot_register_or_scan(
    reader_console: Client, network: dict[str, Any]
) -> None:
    assert reader_console.get("/ipdiscover/", secure=True).status_code == 200
    posted = reader_console.post("/ipdiscover/register/", {"mac": "aa:bb:cc:00:00:09"}, secure=True)
    assert posted.status_code == 403
    assert reader_console.get("/ipdiscover/scan/", secure=True).status_code == 403
    assert not IdentifiedDevice.objects.exists()


def test_the_scanner_choice_page(admin_console: Client, network: dict[str, Any]) -> None:
    other = network["other"]
    admin_console.post(f"/ipdiscover/computers/{other.pk}/", {"mode": "never"}, secure=True)
    assert Scanner.objects.get(computer=other).role == "never"
    assert "never" in page(admin_console, f"/ipdiscover/computers/{other.pk}/")


@pytest.mark.parametrize("target", BAD_TARGETS)
def test_a_bad_scan_target_is_refused_with_a_message_and_nmap_never_starts(
    admin_console: Client, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    fake = FakeRunner()
    monkeypatch.setattr(door, "runner", fake)
    response = admin_console.post("/ipdiscover/scan/", {"target": target}, secure=True)
    assert response.status_code == 200
    assert 'class="message error"' in response.content.decode()
    assert fake.calls == []


def test_scan_results_are_shown_escaped(admin_console: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        door, "runner", FakeRunner({"nmap": nmap_xml(("192.168.10.3", "<b>evil</b>.example", [135]))})
    )
    content = admin_console.post(
        "/ipdiscover/scan/", {"target": "192.168.10.3"}, secure=True
    ).content.decode()
    assert "&lt;b&gt;evil&lt;/b&gt;.example" in content and "<b>evil</b>" not in content
    assert "<td>Windows</td>" in content


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fr", ("Non inventoriés", "Identifiés", "Découverte IP")),
        ("es", ("No inventariados", "Identificados")),
    ],
)
def test_the_network_list_speaks_french_and_spanish(
    admin_console: Client, network: dict[str, Any], language: str, words: tuple[str, ...]
) -> None:
    content = admin_console.get("/ipdiscover/", secure=True, headers={"Accept-Language": language}).content
    for word in words:
        assert word in content.decode()
