"""Every inventory string is inert in the API (security.md T39): hostile hostnames, software,
printer and registry values come back verbatim as JSON strings, never as HTML."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

import pytest

from ocelot.inventory.ingest import store_inventory
from ocelot.inventory.models import Computer
from ocelot.protocol.messages import Inventory, read_request
from ocelot.protocol.xmltree import parse_xml
from tests.api.conftest import Caller

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
LINK = "javascript:alert(1)"
TEMPLATE = "{{7*7}}"
HOSTILE = [SCRIPT, IMAGE, LINK, TEMPLATE]


def _hostile_inventory() -> Inventory:
    def element(tag: str, text: str) -> str:
        return f"<{tag}>{escape(text)}</{tag}>"

    hardware = element("NAME", SCRIPT) + element("OSNAME", IMAGE) + element("DESCRIPTION", TEMPLATE)
    software = element("PUBLISHER", IMAGE) + element("VERSION", TEMPLATE)
    body = (
        f"<HARDWARE>{hardware}</HARDWARE>"
        + "".join(f"<SOFTWARES>{element('NAME', text)}{software}</SOFTWARES>" for text in HOSTILE)
        + "".join(f"<PRINTERS>{element('NAME', text)}</PRINTERS>" for text in HOSTILE)
        + "".join(
            f"<REGISTRY>{element('NAME', LINK)}{element('REGVALUE', text)}</REGISTRY>" for text in HOSTILE
        )
        + f"<ACCOUNTINFO><KEYNAME>TAG</KEYNAME>{element('KEYVALUE', IMAGE)}</ACCOUNTINFO>"
    )
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><REQUEST><CONTENT>{body}</CONTENT>'
        "<DEVICEID>hostile-2026-01-01-00-00-00</DEVICEID><QUERY>INVENTORY</QUERY></REQUEST>"
    )
    message = read_request(parse_xml(xml.encode()))
    assert isinstance(message, Inventory)
    return message


@pytest.fixture
def hostile(db: None) -> Computer:
    store_inventory(_hostile_inventory(), user_agent=SCRIPT)
    return Computer.objects.get(device_id="hostile-2026-01-01-00-00-00")


def _assert_json(response: object) -> dict[str, object]:
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/json; charset=utf-8"  # type: ignore[index]
    assert response["X-Content-Type-Options"] == "nosniff"  # type: ignore[index]
    return json.loads(response.content)  # type: ignore[attr-defined]


def test_the_list_returns_hostile_strings_verbatim_as_json(admin: Caller, hostile: Computer) -> None:
    item = _assert_json(admin.get("/api/v1/computers"))["items"][0]  # type: ignore[index]
    assert item["name"] == SCRIPT
    assert item["os"] == IMAGE
    assert item["tag"] == IMAGE
    assert item["user_agent"] == SCRIPT


def test_the_computer_returns_every_hostile_string_verbatim(admin: Caller, hostile: Computer) -> None:
    body = _assert_json(admin.get(f"/api/v1/computers/{hostile.pk}"))
    assert body["name"] == SCRIPT
    assert body["hardware"]["description"] == TEMPLATE  # type: ignore[index]
    assert sorted(row["name"] for row in body["software"]) == sorted(HOSTILE)  # type: ignore[attr-defined]
    assert {row["publisher"] for row in body["software"]} == {IMAGE}  # type: ignore[attr-defined]
    assert sorted(row["name"] for row in body["sections"]["printers"]) == sorted(HOSTILE)  # type: ignore[index]
    registry = body["sections"]["registry_values"]  # type: ignore[index]
    assert sorted(row["value"] for row in registry) == sorted(HOSTILE)
    assert body["account_info"] == {"tag": IMAGE, "fields": {}}


def test_the_catalogue_and_search_return_hostile_strings_verbatim(admin: Caller, hostile: Computer) -> None:
    names = {item["name"] for item in _assert_json(admin.get("/api/v1/software"))["items"]}  # type: ignore[attr-defined]
    assert names == set(HOSTILE)
    found = admin.get("/api/v1/computers", {"field": "software", "op": "EQUAL", "value": SCRIPT})
    assert [item["name"] for item in _assert_json(found)["items"]] == [SCRIPT]  # type: ignore[attr-defined]


def test_no_response_is_html_even_for_errors(admin: Caller, hostile: Computer) -> None:
    for response in (
        admin.get(f"/api/v1/computers/{hostile.pk + 1000}"),
        admin.get("/api/v1/computers", {"sort": SCRIPT}),
        admin.get("/api/v1/computers", {"field": SCRIPT, "op": "EQUAL", "value": "x"}),
        admin.put(f"/api/v1/settings/{IMAGE}", {"value": 1}),
    ):
        assert response["Content-Type"] == "application/json; charset=utf-8"
        assert set(response.json()) == {"code", "message"}
