"""The IP discovery API: network counts and lists, registering, types, choices and scans."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from ocelot.api import ipdiscover as door
from ocelot.inventory.models import NetworkInterface
from ocelot.ipdiscover.discovered import store_scan
from ocelot.ipdiscover.models import Scanner
from ocelot.protocol.messages import DiscoveredHost
from tests.api.conftest import Caller
from tests.ipdiscover.factories import computer
from tests.ipdiscover.test_scan import BAD_TARGETS, FakeRunner, nmap_xml

pytestmark = pytest.mark.django_db

NET = "192.168.10.0"


@pytest.fixture
def network(db: None) -> dict[str, object]:
    """Two inventoried computers (one the scanner), a scan that saw one of them and two strangers."""
    scanner = computer(ip="192.168.10.20")
    other = computer(ip="192.168.10.21")
    Scanner.objects.create(computer=scanner, role=Scanner.ELECTED, subnet=NET, netmask="255.255.255.0")
    other_mac = NetworkInterface.objects.get(computer=other).mac
    store_scan(
        [
            DiscoveredHost("192.168.10.21", other_mac, "other"),
            DiscoveredHost("192.168.10.1", "aa:bb:cc:00:00:01", "<b>router</b>"),
            DiscoveredHost("192.168.10.9", "aa:bb:cc:00:00:09", "printer"),
        ],
        subnet=NET,
        netmask="255.255.255.0",
        now=timezone.now(),
    )
    return {"scanner": scanner, "other": other}


def counts(caller: Caller) -> dict[str, int]:
    response = caller.get("/api/v1/ipdiscover/networks")
    assert response.status_code == 200
    (line,) = [row for row in response.json() if row["address"] == NET]
    return {key: line[key] for key in ("inventoried", "non_inventoried", "scanners", "identified")}


def test_the_network_list_counts_and_registering_moves_a_device_to_identified(
    admin: Caller, network: dict[str, object]
) -> None:
    assert counts(admin) == {"inventoried": 2, "non_inventoried": 2, "scanners": 1, "identified": 0}
    made = admin.post("/api/v1/ipdiscover/device-types", {"name": "Printer"})
    assert made.status_code == 201
    registered = admin.post(
        "/api/v1/ipdiscover/devices",
        {"mac": "AA:BB:CC:00:00:09", "type_id": made.json()["id"], "description": "2nd floor"},
    )
    assert registered.status_code == 201
    assert counts(admin) == {"inventoried": 2, "non_inventoried": 1, "scanners": 1, "identified": 1}
    identified = admin.get(f"/api/v1/ipdiscover/networks/{NET}/identified").json()
    assert [(i["ip_address"], i["type"], i["description"]) for i in identified["items"]] == [
        ("192.168.10.9", "Printer", "2nd floor")
    ]
    strangers = admin.get(f"/api/v1/ipdiscover/networks/{NET}/non-inventoried").json()
    assert [(i["ip_address"], i["name"]) for i in strangers["items"]] == [("192.168.10.1", "<b>router</b>")]
    assert admin.get(f"/api/v1/ipdiscover/networks/{NET}/scanners").json()["count"] == 1
    assert admin.get(f"/api/v1/ipdiscover/networks/{NET}/inventoried").json()["count"] == 2


def test_a_bad_list_or_subnet_is_a_400(admin: Caller, network: dict[str, object]) -> None:
    assert admin.get(f"/api/v1/ipdiscover/networks/{NET}/everything").status_code == 400
    assert admin.get("/api/v1/ipdiscover/networks/10.0.0.999/identified").status_code == 400


def test_subnet_names(admin: Caller, network: dict[str, object]) -> None:
    added = admin.post(
        "/api/v1/ipdiscover/subnets",
        {"name": "DMZ", "identifier": "7", "address": NET, "netmask": "255.255.255.0"},
    )
    assert added.status_code == 201
    line = next(row for row in admin.get("/api/v1/ipdiscover/networks").json() if row["address"] == NET)
    assert (line["name"], line["identifier"]) == ("DMZ", "7")
    again = admin.post(
        "/api/v1/ipdiscover/subnets", {"name": "x", "address": NET, "netmask": "255.255.255.0"}
    )
    assert again.status_code == 400 and "already" in again.json()["message"]
    wrong = admin.post(
        "/api/v1/ipdiscover/subnets", {"name": "x", "address": "10.0.0.5", "netmask": "255.0.0.0"}
    )
    assert wrong.status_code == 400
    assert admin.delete(f"/api/v1/ipdiscover/subnets/{added.json()['id']}").status_code == 204


def test_scanner_choices_by_hand(admin: Caller, network: dict[str, object]) -> None:
    other = network["other"]
    path = f"/api/v1/ipdiscover/computers/{other.pk}/scanner"  # type: ignore[attr-defined]
    assert admin.get(path).json()["mode"] == "automatic"
    assert admin.put(path, {"mode": "forced", "subnet": NET}).json() == {
        "computer_id": other.pk,  # type: ignore[attr-defined]
        "mode": "forced",
        "subnet": NET,
    }
    assert admin.put(path, {"mode": "never"}).json()["mode"] == "never"
    assert admin.put(path, {"mode": "sometimes"}).status_code == 400
    assert admin.put(path, {"mode": "forced", "subnet": "$(reboot)"}).status_code == 400
    assert admin.put(path, {"mode": "automatic"}).json()["mode"] == "automatic"


def test_a_read_only_user_cannot_register_nor_scan(reader: Caller, network: dict[str, object]) -> None:
    assert reader.post("/api/v1/ipdiscover/devices", {"mac": "aa:bb:cc:00:00:09"}).status_code == 403
    assert reader.post("/api/v1/ipdiscover/scan", {"target": "127.0.0.1"}).status_code == 403


@pytest.mark.parametrize("target", BAD_TARGETS)
def test_a_bad_scan_target_is_refused_and_nmap_never_starts(
    admin: Caller, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    fake = FakeRunner()
    monkeypatch.setattr(door, "runner", fake)
    for path in ("/api/v1/ipdiscover/scan", "/api/v1/ipdiscover/analyse"):
        response = admin.post(path, {"target": target})
        assert response.status_code in (400, 422), response.content
        assert "message" in response.json() or "detail" in response.json()
        assert "Traceback" not in response.content.decode()
    assert fake.calls == []


def test_a_scan_gives_names_and_types(admin: Caller, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeRunner({"nmap": nmap_xml(("192.168.10.3", "<script>x</script>", [22]))})
    monkeypatch.setattr(door, "runner", fake)
    response = admin.post("/api/v1/ipdiscover/scan", {"target": "192.168.10.3"})
    assert response.status_code == 200
    assert response.json() == [
        {
            "ip_address": "192.168.10.3",
            "type": "Linux",
            "dns_name": "<script>x</script>",
            "netbios_name": "",
            "open_ports": [22],
        }
    ]
    assert response["Content-Type"].startswith("application/json")
    json.loads(response.content)
