"""Every bad input to the agent endpoint gets a clear 4xx and writes nothing (security.md S1-S2, T01-T16).

Each refusal is checked twice: the answer (a 4xx, a one-line reason, never a stack trace or
the payload echoed) and the database (every row of every table exactly as before). The
database already holds the computer the hostile requests name, so a partial write of its
inventory would show.
"""

from __future__ import annotations

import io
import random
import re
import socket
import string
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocelot.inventory.models import (
    SECTION_MODELS,
    AccountInfo,
    Computer,
    OtherSection,
    Software,
    SoftwareInstallation,
)
from ocelot.inventory.setting_values import set_global
from ocelot.protocol.sections import SECTIONS
from ocelot.protocol.xmltree import Node, to_document
from tests.protocol.hostile_payloads import MiB, billion_laughs, hostile_text, zeros_bomb

DATA = Path(__file__).parents[1] / "data"
UNIX_UA = "OCS-NG_unified_unix_agent_v2.10.0"


def _trimmed_sample() -> bytes:
    """The captured Unix inventory with its first 20 software entries only (for speed)."""
    captured = (DATA / "unix-agent-2.10-inventory.xml").read_bytes()
    software = re.compile(rb"\s*<SOFTWARES>.*?</SOFTWARES>", re.DOTALL)
    entries = software.findall(captured)
    return software.sub(b"", captured).replace(b"\n  </CONTENT>", b"".join(entries[:20]) + b"\n  </CONTENT>")


SAMPLE = _trimmed_sample()
DEVICE = "vm-2026-11-21-17-46-56"

pytestmark = pytest.mark.django_db


def post(client: Client, body: bytes, **extra: Any) -> Any:
    extra.setdefault("HTTP_USER_AGENT", UNIX_UA)
    return client.post("/ocsinventory", data=body, content_type="application/x-compress", **extra)


def request(query: str, inside: str = "", device_id: str = DEVICE) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<REQUEST>{inside}<DEVICEID>{device_id}</DEVICEID>'
        f"<QUERY>{query}</QUERY></REQUEST>"
    ).encode()


def sample_with(old: bytes, new: bytes) -> bytes:
    assert old in SAMPLE
    return SAMPLE.replace(old, new, 1)


def database_state() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values_list())
        for model in apps.get_models()
        if model._meta.managed
    }


@pytest.fixture
def known_computer(client: Client) -> None:
    """The captured computer is already inventoried."""
    response = post(client, zlib.compress(SAMPLE))
    assert response.status_code == 200
    assert Computer.objects.filter(device_id=DEVICE).exists()
    assert SoftwareInstallation.objects.count() == 20


def assert_refused(client: Client, body: bytes, status: int | None = None, **extra: Any) -> Any:
    before = database_state()
    response = post(client, body, **extra)
    assert 400 <= response.status_code < 500, response.content[:200]
    if status is not None:
        assert response.status_code == status
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert len(text) < 200 and text.count("\n") <= 1
    assert "Traceback" not in text and "File " not in text
    assert database_state() == before
    return response


# ---------------------------------------------------------------- framing (T05)


def test_an_empty_body_is_refused(client, known_computer):
    assert_refused(client, b"", 400)


def test_a_body_that_is_not_zlib_is_refused(client, known_computer):
    assert_refused(client, b"\x00\x01 definitely not a compressed body", 400)


def test_raw_deflate_is_refused(client, known_computer):
    compressor = zlib.compressobj(wbits=-15)
    assert_refused(client, compressor.compress(SAMPLE) + compressor.flush(), 400)


def test_zlib_of_something_that_is_not_xml_is_refused(client, known_computer):
    assert_refused(client, zlib.compress(b"QUERY=INVENTORY&DEVICEID=" + DEVICE.encode()), 400)


def test_a_truncated_zlib_body_is_refused(client, known_computer):
    body = zlib.compress(SAMPLE)
    assert_refused(client, body[: len(body) * 2 // 3], 400)


def test_a_zlib_body_with_a_bad_checksum_is_refused(client, known_computer):
    body = bytearray(zlib.compress(SAMPLE))
    body[-2] ^= 0x55
    assert_refused(client, bytes(body), 400)


def test_a_zlib_body_with_trailing_garbage_is_refused(client, known_computer):
    assert_refused(client, zlib.compress(SAMPLE) + b"trailing", 400)


def test_xml_whose_bytes_do_not_match_its_declared_encoding_is_refused(client, known_computer):
    body = sample_with(b"<NAME>vm</NAME>", "<NAME>v\u00e9</NAME>".encode("latin-1"))
    assert_refused(client, zlib.compress(body), 400)


def test_xml_declaring_an_encoding_the_server_cannot_read_is_refused(client, known_computer):
    body = sample_with(b'encoding="UTF-8"', b'encoding="UTF-7"')
    assert_refused(client, zlib.compress(body), 400)


# ---------------------------------------------------------------- size (T01, T02, T06)


def test_a_zlib_bomb_of_one_gibibyte_is_refused_with_413(client, known_computer):
    assert_refused(client, zeros_bomb(1024 * MiB), 413)


def test_a_body_of_50_mib_is_refused_with_413(client, known_computer):
    assert_refused(client, bytes(50 * MiB), 413)


class CountingStream(io.RawIOBase):
    """A request body of ``size`` zero bytes that counts what the server reads of it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.size - self.consumed)
        buffer[:count] = bytes(count)
        self.consumed += count
        return count


def test_a_body_declared_larger_than_the_limit_is_refused_before_it_is_read(client, known_computer):
    stream = CountingStream(50 * MiB)
    before = database_state()
    response = client.generic(
        "POST",
        "/ocsinventory",
        HTTP_USER_AGENT=UNIX_UA,
        CONTENT_TYPE="application/x-compress",
        CONTENT_LENGTH=str(stream.size),
        **{"wsgi.input": stream},
    )
    assert response.status_code == 413
    assert stream.consumed < MiB
    assert database_state() == before


def test_a_million_elements_are_refused_with_413(client, known_computer):
    # Numbered entries keep the body under the ratio cap: the element count is what stops it.
    items = b"".join(b"<SOFTWARES><NAME>%d</NAME></SOFTWARES>" % i for i in range(500_000))
    body = request("INVENTORY", f"<CONTENT>{items.decode()}</CONTENT>")
    assert body.count(b"<SOFTWARES>") + body.count(b"<NAME>") == 1_000_000
    response = assert_refused(client, zlib.compress(body, 1), 413)
    assert b"too many elements" in response.content


def test_nesting_ten_thousand_deep_is_refused(client, known_computer):
    nested = "<X>" * 10_000 + "</X>" * 10_000
    response = assert_refused(
        client, zlib.compress(request("INVENTORY", f"<CONTENT>{nested}</CONTENT>")), 400
    )
    assert b"nested too deeply" in response.content


def _letters(count: int, alphabet: str = string.ascii_letters) -> bytes:
    """Incompressible-enough text: a repeated letter would trip the compression-ratio cap first."""
    return "".join(random.Random(count).choices(alphabet, k=count)).encode()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"<NAME>vm</NAME>", b"<NAME>" + _letters(MiB) + b"</NAME>"),
        (b"<NAME>adduser</NAME>", b"<NAME>" + _letters(MiB // 2, "\u00e9\u00e8\u00ea\u00eb") + b"</NAME>"),
        (b"<BIOS>", b'<BIOS SSN="' + _letters(MiB, string.digits) + b'">'),
    ],
    ids=["hardware-name", "software-name", "attribute"],
)
def test_a_field_value_of_one_mebibyte_is_refused_with_413(client, known_computer, old, new):
    response = assert_refused(client, zlib.compress(sample_with(old, new)), 413)
    assert b"value is too long" in response.content


def test_an_unknown_field_with_a_name_of_one_mebibyte_is_refused(client, known_computer):
    name = _letters(MiB)
    body = sample_with(b"<NAME>vm</NAME>", b"<NAME>vm</NAME><%s>1</%s>" % (name, name))
    assert_refused(client, zlib.compress(body), 400)


# ---------------------------------------------------------------- DTD and entities (T03, T04)


def test_a_dtd_is_refused(client, known_computer):
    body = request("PROLOG").replace(b"<REQUEST>", b"<!DOCTYPE REQUEST><REQUEST>")
    assert_refused(client, zlib.compress(body), 400)


def test_billion_laughs_is_refused(client, known_computer):
    assert_refused(client, zlib.compress(billion_laughs()), 400)


def test_an_internal_entity_inside_an_inventory_is_refused(client, known_computer):
    body = sample_with(b"<REQUEST>", b'<!DOCTYPE REQUEST [<!ENTITY e "expanded">]>\n<REQUEST>')
    body = body.replace(b"<NAME>vm</NAME>", b"<NAME>&e;</NAME>", 1)
    assert_refused(client, zlib.compress(body), 400)


@pytest.fixture
def tripwire() -> Iterator[socket.socket]:
    """A listening socket no request may ever connect to."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.setblocking(False)
    yield server
    server.close()


def test_external_entities_are_refused_without_reading_files_or_connecting(
    client, known_computer, tripwire, tmp_path
):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    port = tripwire.getsockname()[1]
    for doctype in (
        f'<!DOCTYPE REQUEST [<!ENTITY xxe SYSTEM "file://{secret}">]>',
        f'<!DOCTYPE REQUEST [<!ENTITY xxe SYSTEM "http://127.0.0.1:{port}/x">]>',
        f'<!DOCTYPE REQUEST [<!ENTITY % dtd SYSTEM "http://127.0.0.1:{port}/evil.dtd"> %dtd;]>',
        f'<!DOCTYPE REQUEST SYSTEM "http://127.0.0.1:{port}/request.dtd">',
    ):
        body = sample_with(b"<REQUEST>", doctype.encode() + b"\n<REQUEST>")
        body = body.replace(b"<NAME>vm</NAME>", b"<NAME>&xxe;</NAME>", 1)
        response = assert_refused(client, zlib.compress(body), 400)
        assert b"TOP-SECRET" not in response.content
    with pytest.raises(BlockingIOError):
        tripwire.accept()
    assert not Computer.objects.filter(name__contains="TOP-SECRET").exists()


# ---------------------------------------------------------------- identity and query (T09, T16)


@pytest.mark.parametrize(
    "device_id",
    ["", "vm", "vm-2026-11-21", "vm-2026-11-21-17-46", "x" * 300 + "-2026-11-21-17-46-56", "' OR 1=1 --"],
)
def test_a_bad_device_id_is_refused(client, known_computer, device_id):
    body = SAMPLE.replace(
        f"<DEVICEID>{DEVICE}</DEVICEID>".encode(), f"<DEVICEID>{device_id}</DEVICEID>".encode()
    )
    assert_refused(client, zlib.compress(body), 400)


def test_a_request_without_device_id_is_refused(client, known_computer):
    assert_refused(client, zlib.compress(b"<REQUEST><QUERY>PROLOG</QUERY></REQUEST>"), 400)


@pytest.mark.parametrize("query", ["FILE", "SYSTEM", "SNMP", "inventory", "", "INVENTORY;PROLOG"])
def test_an_unknown_query_is_refused(client, known_computer, query):
    body = SAMPLE.replace(b"<QUERY>INVENTORY</QUERY>", f"<QUERY>{query}</QUERY>".encode())
    assert_refused(client, zlib.compress(body), 400)


def test_a_duplicated_query_with_different_values_is_refused(client, known_computer):
    body = SAMPLE.replace(b"<QUERY>INVENTORY</QUERY>", b"<QUERY>INVENTORY</QUERY><QUERY>PROLOG</QUERY>")
    assert_refused(client, zlib.compress(body), 400)


def test_a_duplicated_device_id_with_different_values_is_refused(client, known_computer):
    body = SAMPLE.replace(b"<QUERY>", b"<DEVICEID>other-2026-11-21-17-46-56</DEVICEID><QUERY>")
    assert_refused(client, zlib.compress(body), 400)


def test_an_inventory_without_content_is_refused(client, known_computer):
    assert_refused(client, zlib.compress(request("INVENTORY")), 400)


def test_a_prolog_carrying_an_inventory_body_is_refused(client, known_computer):
    body = SAMPLE.replace(b"<QUERY>INVENTORY</QUERY>", b"<QUERY>PROLOG</QUERY>")
    assert_refused(client, zlib.compress(body), 400)


def test_a_root_other_than_request_is_refused(client, known_computer):
    body = SAMPLE.replace(b"<REQUEST>", b"<REPLY>").replace(b"</REQUEST>", b"</REPLY>")
    assert_refused(client, zlib.compress(body), 400)


@pytest.mark.parametrize(
    "attributes",
    [
        'ID="1700000001" ERR="&lt;script&gt;alert(1)&lt;/script&gt;"',
        'ID="1700000001" ERR="' + "E" * 10240 + '"',
        'ID="../../etc/passwd" ERR="SUCCESS"',
        'ERR="SUCCESS"',
    ],
    ids=["script-code", "10-KiB-code", "path-id", "no-id"],
)
def test_a_download_result_that_is_not_a_result_is_refused(client, known_computer, attributes):
    body = f'<REQUEST DEVICEID="{DEVICE}" QUERY="DOWNLOAD" {attributes} />'.encode()
    assert_refused(client, zlib.compress(body), 400)


# ---------------------------------------------------------------- typed fields (T07)

NUMERIC_FIELDS = {
    "HARDWARE/MEMORY": b"<MEMORY>24105</MEMORY>",
    "HARDWARE/SWAP": b"<SWAP>0</SWAP>",
    "HARDWARE/PROCESSORS": b"<PROCESSORS></PROCESSORS>",
    "HARDWARE/CHECKSUM": b"<CHECKSUM>1572863</CHECKSUM>",
    "DRIVES/FREE": b"<FREE>80517</FREE>",
    "DRIVES/TOTAL": b"<TOTAL>258019</TOTAL>",
    "SOFTWARES/FILESIZE": b"<FILESIZE>702464</FILESIZE>",
}


@pytest.mark.parametrize("where", list(NUMERIC_FIELDS))
@pytest.mark.parametrize(
    "value",
    ["lots", "1" + "0" * 30, "1) OR SLEEP(5)#", "-" + "9" * 25],
)
def test_a_numeric_field_holding_text_or_a_huge_number_is_refused(client, known_computer, where, value):
    old = NUMERIC_FIELDS[where]
    tag = old[1 : old.index(b">")]
    assert_refused(client, zlib.compress(sample_with(old, b"<%s>%s</%s>" % (tag, value.encode(), tag))), 400)


# ---------------------------------------------------------------- who may talk (protocol.md §1.1, §1.7)


@pytest.mark.parametrize(
    "user_agent", ["", "curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64)", "OCS-NG_unified_unix_agent"]
)
def test_an_unknown_user_agent_is_refused(client, known_computer, user_agent):
    assert_refused(client, zlib.compress(SAMPLE), 400, HTTP_USER_AGENT=user_agent)


def test_a_get_is_refused_with_400(client):
    before = database_state()
    response = client.get("/ocsinventory", HTTP_USER_AGENT=UNIX_UA)
    assert response.status_code == 400
    assert database_state() == before


@pytest.mark.parametrize("method", ["put", "delete", "patch", "options"])
def test_methods_other_than_get_and_post_are_refused_with_403(client, method):
    before = database_state()
    response = getattr(client, method)(
        "/ocsinventory",
        data=zlib.compress(SAMPLE),
        content_type="application/x-compress",
        HTTP_USER_AGENT=UNIX_UA,
    )
    assert response.status_code == 403
    assert database_state() == before


def test_plain_xml_is_refused_when_other_framings_are_off(client, known_computer):
    set_global("COMPRESS_TRY_OTHERS", 0)
    assert_refused(client, SAMPLE, 400)


# ---------------------------------------------------------------- hostile strings are data (T08, T39)


def _hostile_inventory() -> tuple[bytes, dict[tuple[str, str], str]]:
    """An inventory with a distinct hostile value in every text field of every section."""
    expected: dict[tuple[str, str], str] = {}
    content = []
    for spec in SECTIONS:
        fields = []
        for field in spec.fields:
            if field.kind != "text":
                continue
            value = hostile_text(f"{spec.tag}/{field.tag}")
            expected[(spec.name, field.name)] = value
            fields.append(f"<{field.tag}>{_escape(value)}</{field.tag}>")
        extra = hostile_text(f"{spec.tag}/extra")
        expected[(spec.name, "extra")] = extra
        fields.append(f"<X_UNKNOWN>{_escape(extra)}</X_UNKNOWN>")
        content.append(f"<{spec.tag}>{''.join(fields)}</{spec.tag}>")
    tag = hostile_text("TAG")
    expected[("account", "TAG")] = tag
    content.append(f"<ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>{_escape(tag)}</KEYVALUE></ACCOUNTINFO>")
    other = hostile_text("OTHER")
    expected[("other", "VALUE")] = other
    content.append(f"<X_HOSTILE_SECTION><VALUE>{_escape(other)}</VALUE></X_HOSTILE_SECTION>")
    return request(
        "INVENTORY", f"<CONTENT>{''.join(content)}</CONTENT>", "hostile-2025-01-01-00-00-00"
    ), expected


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_sql_metacharacters_and_markup_in_every_string_field_are_stored_verbatim(client):
    body, expected = _hostile_inventory()
    response = post(client, zlib.compress(body))
    assert response.status_code == 200
    computer = Computer.objects.get(device_id="hostile-2025-01-01-00-00-00")
    checked = 0
    for (section, name), value in expected.items():
        if section == "hardware":
            stored = computer.extra["X_UNKNOWN"] if name == "extra" else getattr(computer, name)
        elif section == "software":
            installation = SoftwareInstallation.objects.select_related("software").get(computer=computer)
            if name == "extra":
                stored = installation.extra["X_UNKNOWN"]
            elif name in ("name", "publisher", "version"):
                stored = getattr(installation.software, name)
            else:
                stored = getattr(installation, name)
        elif section == "account":
            stored = AccountInfo.objects.get(computer=computer).tag
        elif section == "other":
            stored = OtherSection.objects.get(computer=computer, tag="X_HOSTILE_SECTION").data["VALUE"]
        else:
            row = SECTION_MODELS[section].objects.get(computer=computer)
            stored = row.extra["X_UNKNOWN"] if name == "extra" else getattr(row, name)
        assert stored == value, (section, name)
        checked += 1
    assert checked == len(expected) > 200
    # One row per section, one computer, one catalogue entry: nothing was split or doubled.
    assert Computer.objects.count() == 1
    assert Software.objects.count() == 1
    for model in SECTION_MODELS.values():
        assert model.objects.filter(computer=computer).count() == 1, model.__name__


def test_a_hostile_inventory_posted_twice_changes_nothing_the_second_time(client):
    body, _ = _hostile_inventory()
    assert post(client, zlib.compress(body)).status_code == 200
    before = {
        label: rows
        for label, rows in database_state().items()
        if not re.search(r"computer$|contactsession$", label, re.IGNORECASE)
    }
    assert post(client, zlib.compress(body)).status_code == 200
    after = {label: rows for label, rows in database_state().items() if label in before}
    assert after == before


_TEXT_FIELDS = [(spec, field) for spec in SECTIONS for field in spec.fields if field.kind == "text"]
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _stored(computer: Computer, section: str, name: str) -> object:
    if section == "hardware":
        return getattr(computer, name)
    if section == "software":
        installation = SoftwareInstallation.objects.select_related("software").get(computer=computer)
        return getattr(
            installation.software if name in ("name", "publisher", "version") else installation, name
        )
    return getattr(SECTION_MODELS[section].objects.get(computer=computer), name)


def _column_length(section: str, name: str) -> int | None:
    if section == "hardware":
        model: Any = Computer
    elif section == "software":
        model = Software if name in ("name", "publisher", "version") else SoftwareInstallation
    else:
        model = SECTION_MODELS[section]
    return model._meta.get_field(name).max_length


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    where=st.sampled_from(_TEXT_FIELDS),
    value=st.text(st.characters(codec="utf-8", exclude_characters="\ufffe\uffff"), max_size=300),
)
def test_any_text_in_any_field_is_stored_as_sent_after_the_documented_normalisation(client, where, value):
    # Documented: C0 control characters other than tab, LF and CR are stripped, surrounding
    # whitespace is trimmed, and text is cut to the column's length (security.md S2).
    spec, field = where
    device_id = f"prop{abs(hash((spec.tag, field.tag, value))) % 10**9}-2025-01-01-00-00-00"
    document = to_document(
        Node(
            "REQUEST",
            children=[
                Node("CONTENT", children=[Node(spec.tag, children=[Node(field.tag, text=value)])]),
                Node("DEVICEID", text=device_id),
                Node("QUERY", text="INVENTORY"),
            ],
        )
    )
    assert post(client, zlib.compress(document)).status_code == 200
    expected = _CONTROLS.sub("", value).strip()[: _column_length(spec.name, field.name)]
    assert _stored(Computer.objects.get(device_id=device_id), spec.name, field.name) == expected
