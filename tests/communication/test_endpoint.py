"""The agent endpoint over HTTP: framing, headers, contacts and their options (protocol.md §1, §4, §7).

Replies are read with the standard library's ElementTree, as an agent would read them, not
with the server's own reader.
"""

from __future__ import annotations

import dataclasses
import gzip
import ipaddress
import xml.etree.ElementTree as ET
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from ocelot.communication import exchange
from ocelot.deployment.agent_files import save_agent_file
from ocelot.inventory.ingest import IngestError
from ocelot.inventory.models import Computer, Group, GroupMember, RegistryQuery
from ocelot.inventory.setting_values import set_global, set_override

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parents[1] / "data"
UNIX_UA = "OCS-NG_unified_unix_agent_v2.10.0"
WINDOWS_UA = "OCS-NG_WINDOWS_AGENT_v2.11.0.1"
FUSION_UA = "FusionInventory-Agent_v2.6-3"
DEVICE = "vm-2026-11-21-17-47-44"


def prolog(device_id: str = DEVICE) -> bytes:
    """The PROLOG the Unix agent sends [verified] (protocol.md §4.1)."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<REQUEST>\n  <DEVICEID>{device_id}</DEVICEID>\n'
        "  <QUERY>PROLOG</QUERY>\n</REQUEST>\n"
    ).encode()


def post(client: Client, body: bytes, user_agent: str = UNIX_UA, **extra: Any) -> Any:
    return client.post(
        "/ocsinventory",
        data=body,
        content_type="application/x-compress",
        HTTP_USER_AGENT=user_agent,
        **extra,
    )


def reply(response: Any) -> ET.Element:
    """The REPLY document of a zlib-framed answer."""
    assert response.status_code == 200, response.content[:200]
    return ET.fromstring(zlib.decompress(response.content))


def contact(client: Client, device_id: str = DEVICE) -> ET.Element:
    return reply(post(client, zlib.compress(prolog(device_id))))


def options(root: ET.Element) -> dict[str, ET.Element]:
    found = {}
    for option in root.findall("OPTION"):
        name = option.find("NAME")
        assert name is not None and name.text, "OPTION NAME must be a child element (Windows agent)"
        found[name.text] = option
    return found


def download_conf(root: ET.Element) -> dict[str, str]:
    params = options(root)["DOWNLOAD"].findall("PARAM")
    (conf,) = [param for param in params if param.get("TYPE") == "CONF"]
    return dict(conf.attrib)


# ---------------------------------------------------------------- framing (protocol.md §1.3)


def test_a_zlib_request_gets_a_zlib_reply_at_the_default_level(client):
    response = post(client, zlib.compress(prolog()))
    assert response.content[:2] == b"\x78\x9c"
    assert reply(response).tag == "REPLY"


def test_a_zlib_request_compressed_at_level_9_still_gets_a_default_level_reply(client):
    response = post(client, zlib.compress(prolog(), 9))
    assert response.content[:2] == b"\x78\x9c"


def test_a_gzip_request_gets_a_gzip_reply(client):
    response = post(client, gzip.compress(prolog()), FUSION_UA, CONTENT_TYPE="application/x-compress-gzip")
    assert response.status_code == 200
    assert response.content[:3] == b"\x1f\x8b\x08"
    assert ET.fromstring(gzip.decompress(response.content)).findtext("RESPONSE") == "SEND"


def test_a_plain_xml_request_gets_a_plain_reply(client):
    response = post(client, prolog(), FUSION_UA, CONTENT_TYPE="application/xml")
    assert response.status_code == 200
    assert response.content.startswith(b"<?xml")
    assert ET.fromstring(response.content).findtext("RESPONSE") == "SEND"


@pytest.mark.parametrize("body", [gzip.compress(prolog()), prolog()], ids=["gzip", "plain"])
def test_gzip_and_plain_requests_are_refused_when_other_framings_are_off(client, body):
    set_global("COMPRESS_TRY_OTHERS", 0)
    assert post(client, body).status_code == 400
    assert post(client, zlib.compress(prolog())).status_code == 200


def test_the_reply_carries_the_headers_of_the_real_server(client):
    response = post(client, zlib.compress(prolog()))
    assert response["Content-Type"] == "application/x-compressed"
    assert response["Cache-Control"] == "no-cache"
    assert int(response["Content-Length"]) == len(response.content)


def test_the_endpoint_answers_with_or_without_a_trailing_slash(client):
    for path in ("/ocsinventory", "/ocsinventory/"):
        response = client.post(
            path, data=zlib.compress(prolog()), content_type="application/x-compress", HTTP_USER_AGENT=UNIX_UA
        )
        assert reply(response).findtext("RESPONSE") == "SEND"


@pytest.mark.parametrize(
    ("user_agent", "content_type"),
    [
        (UNIX_UA, "application/x-compress"),
        ("OCS-NG_unified_unix_agent_v2.9.2", "application/x-compress"),
        (WINDOWS_UA, "application/x-compressed"),
        (FUSION_UA, "application/x-compress-zlib"),
        ("OCS-NG_INJECTOR_PL_v3", "Application/x-compress"),
        ("GLPI-Agent_v1.7", "application/x-compress-zlib"),
    ],
)
def test_every_real_agent_family_is_answered_whatever_content_type_it_declares(
    client, user_agent, content_type
):
    response = post(client, zlib.compress(prolog()), user_agent, CONTENT_TYPE=content_type)
    assert reply(response).findtext("RESPONSE") == "SEND"


# ---------------------------------------------------------------- PROLOG reply (protocol.md §4.2-§4.6)


def test_a_contact_reply_has_response_prolog_freq_and_a_download_option(client):
    root = contact(client)
    assert root.findtext("RESPONSE") == "SEND"
    assert root.findtext("PROLOG_FREQ") == "24"
    assert root.findtext("INVENTORY_ON_STARTUP") in ("0", "1")
    assert "DOWNLOAD" in options(root)


def test_the_download_conf_param_always_has_on_and_timeout(client):
    conf = download_conf(contact(client))
    assert conf["ON"] == "0"
    assert conf["TIMEOUT"] == "30"
    assert {"FRAG_LATENCY", "CYCLE_LATENCY", "PERIOD_LATENCY", "PERIOD_LENGTH"} <= set(conf)
    set_global("DOWNLOAD", 1)
    set_global("DOWNLOAD_TIMEOUT", 7)
    conf = download_conf(contact(client))
    assert (conf["ON"], conf["TIMEOUT"]) == ("1", "7")


def test_an_unknown_computer_is_asked_for_an_inventory_and_not_created(client):
    assert contact(client).findtext("RESPONSE") == "SEND"
    assert not Computer.objects.exists()


def test_a_contact_of_a_known_computer_is_counted(client):
    Computer.objects.create(device_id=DEVICE, fidelity=3)
    contact(client)
    computer = Computer.objects.get(device_id=DEVICE)
    assert computer.fidelity == 4
    assert computer.last_contact_at is not None
    assert computer.user_agent == UNIX_UA


def test_frequency_minus_one_gives_stop_without_any_option(client):
    set_global("FREQUENCY", -1)
    root = contact(client)
    assert root.findtext("RESPONSE") == "STOP"
    assert root.findall("OPTION") == []
    assert root.findtext("PROLOG_FREQ") == "24"


def test_frequency_n_gives_stop_after_a_recent_inventory_and_still_sends_options(client):
    set_global("FREQUENCY", 3)
    Computer.objects.create(device_id=DEVICE, last_inventory_at=timezone.now() - timedelta(days=1))
    root = contact(client)
    assert root.findtext("RESPONSE") == "STOP"
    assert "DOWNLOAD" in options(root)


def test_frequency_n_gives_send_once_the_last_inventory_is_older(client):
    set_global("FREQUENCY", 3)
    Computer.objects.create(device_id=DEVICE, last_inventory_at=timezone.now() - timedelta(days=4))
    assert contact(client).findtext("RESPONSE") == "SEND"


def test_frequency_zero_always_gives_send(client):
    Computer.objects.create(device_id=DEVICE, last_inventory_at=timezone.now())
    assert contact(client).findtext("RESPONSE") == "SEND"


def test_a_per_computer_frequency_overrides_the_global_one(client):
    computer = Computer.objects.create(device_id=DEVICE, last_inventory_at=timezone.now())
    set_override("FREQUENCY", -1, computer=computer)
    root = contact(client)
    assert root.findtext("RESPONSE") == "STOP"
    assert root.findall("OPTION") == []
    assert contact(client, "other-2026-11-21-17-47-44").findtext("RESPONSE") == "SEND"


def test_a_group_frequency_applies_to_its_members(client):
    computer = Computer.objects.create(device_id=DEVICE, last_inventory_at=timezone.now())
    group = Group.objects.create(name="kiosks")
    GroupMember.objects.create(group=group, computer=computer)
    set_override("FREQUENCY", 30, group=group)
    assert contact(client).findtext("RESPONSE") == "STOP"
    set_override("FREQUENCY", 0, computer=computer)
    assert contact(client).findtext("RESPONSE") == "SEND"


def test_prolog_freq_and_download_settings_follow_overrides(client):
    computer = Computer.objects.create(device_id=DEVICE)
    set_override("PROLOG_FREQ", 6, computer=computer)
    set_override("DOWNLOAD_TIMEOUT", 2, computer=computer)
    root = contact(client)
    assert root.findtext("PROLOG_FREQ") == "6"
    assert download_conf(root)["TIMEOUT"] == "2"


def test_the_registry_option_lists_every_registry_query_when_registry_is_on(client):
    RegistryQuery.objects.create(name="foover", hive=2, key="SOFTWARE\\Foo", value_name="Version")
    RegistryQuery.objects.create(name="all-of-bar", hive=1, key="Software\\Bar", value_name="*")
    assert "REGISTRY" not in options(contact(client))
    set_global("REGISTRY", 1)
    registry = options(contact(client))["REGISTRY"]
    params = [(dict(p.attrib), p.text) for p in registry.findall("PARAM")]
    assert params == [
        ({"NAME": "foover", "REGTREE": "2", "REGKEY": "SOFTWARE\\Foo"}, "Version"),
        ({"NAME": "all-of-bar", "REGTREE": "1", "REGKEY": "Software\\Bar"}, "*"),
    ]


def test_no_registry_option_without_registry_queries(client):
    set_global("REGISTRY", 1)
    assert "REGISTRY" not in options(contact(client))


# ---------------------------------------------------------------- other queries (protocol.md §7)


def test_an_update_query_gets_no_update(client):
    body = b"<REQUEST><QUERY>UPDATE</QUERY><PLATFORM>LINUX</PLATFORM><AGENT>2.10.0</AGENT></REQUEST>"
    root = reply(post(client, zlib.compress(body)))
    assert [(child.tag, child.text) for child in root] == [("RESPONSE", "NO_UPDATE")]


def test_results_and_notices_get_200_with_an_empty_body(client):
    bodies = [
        (DATA / "unix-agent-2.10-download-result.xml").read_bytes(),
        (DATA / "windows-agent-2.11-download-result.xml").read_bytes(),
        (DATA / "windows-agent-2.11-notify.xml").read_bytes(),
    ]
    for body in bodies:
        response = post(client, zlib.compress(body), WINDOWS_UA)
        assert response.status_code == 200
        assert response.content == b""
        assert response["Content-Length"] == "0"


# ---------------------------------------------------------------- the TAG label (option DEPLOY)


def test_the_label_is_served_only_while_deploy_is_on(client):
    save_agent_file("label", "Num\u00e9ro d'inventaire ?".encode())
    response = client.get("/ocsinventory/deploy/label")
    assert response.status_code == 200
    assert response.content == "Num\u00e9ro d'inventaire ?".encode()
    set_global("DEPLOY", 0)
    assert client.get("/ocsinventory/deploy/label").status_code == 404


def test_an_agent_file_that_does_not_exist_is_404(client):
    assert client.get("/ocsinventory/deploy/label").status_code == 404
    assert client.get("/ocsinventory/deploy/..%2F..%2Fsecret_key").status_code == 404


# ---------------------------------------------------------------- client address (security.md S5, T11)

FUSION = (DATA / "fusioninventory-2.6-inventory.xml").read_bytes()
FUSION_DEVICE = "lab7-2024-02-20-07-45-10"


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(client):
    response = post(
        client,
        zlib.compress(FUSION),
        FUSION_UA,
        REMOTE_ADDR="192.0.2.50",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert response.status_code == 200
    computer = Computer.objects.get(device_id=FUSION_DEVICE)
    assert computer.source_ip == "192.0.2.50"
    # The spoofed address matches an interface, but it is not where the request came from.
    assert computer.ip_address == ""


def test_x_forwarded_for_from_a_trusted_proxy_gives_the_client_address(client, settings):
    settings.CONFIG = dataclasses.replace(
        settings.CONFIG, trusted_proxies=(ipaddress.ip_network("192.0.2.50/32"),)
    )
    response = post(
        client,
        zlib.compress(FUSION),
        FUSION_UA,
        REMOTE_ADDR="192.0.2.50",
        HTTP_X_FORWARDED_FOR="203.0.113.1, 198.51.100.7",
    )
    assert response.status_code == 200
    computer = Computer.objects.get(device_id=FUSION_DEVICE)
    assert computer.source_ip == "198.51.100.7"
    assert computer.ip_address == "198.51.100.7"


def test_the_interface_the_agent_connects_from_becomes_its_address(client):
    post(client, zlib.compress(FUSION), FUSION_UA, REMOTE_ADDR="198.51.100.7")
    computer = Computer.objects.get(device_id=FUSION_DEVICE)
    assert (computer.source_ip, computer.ip_address) == ("198.51.100.7", "198.51.100.7")


# ---------------------------------------------------------------- a busy server (security.md R5, T14)


def _fail_with(error: Exception) -> Any:
    def store_inventory(*args: object, **kwargs: object) -> Any:
        raise error

    return store_inventory


@pytest.mark.parametrize(
    "error",
    [IngestError("the server is busy, try again later", status=503), OperationalError("deadlock detected")],
    ids=["retries-exhausted", "database-error"],
)
def test_a_busy_server_answers_503_with_retry_after_and_no_details(client, monkeypatch, error):
    monkeypatch.setattr(exchange, "store_inventory", _fail_with(error))
    response = post(client, zlib.compress(FUSION), FUSION_UA)
    assert response.status_code == 503
    assert 30 <= int(response["Retry-After"]) <= 120
    assert b"deadlock" not in response.content and b"Traceback" not in response.content
