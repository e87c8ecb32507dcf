"""Inventory strings are inert everywhere: lists, pages, charts, tooltips and CSV (issue 3,
security.md: "Inventory strings are shown escaped everywhere")."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client
from django.utils.html import escape

from ocelot.inventory.models import Computer
from tests.inventory.computer_factory import make_computer

pytestmark = pytest.mark.django_db

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "{{7*7}}",
]


@pytest.fixture
def hostile() -> list[Computer]:
    return [
        make_computer(
            text,
            device_id=f"hostile-{index}",
            tag=text,
            os_name=text,
            user_agent=text,
            description=text,
            user_id=text,
            installed=[text],
            printers=[text],
            registry=[(text, text)],
            monitors=[{"manufacturer": text, "caption": text}],
            networks=[{"ip_address": text, "subnet": text}],
            bios={"system_serial": text, "bios_version": text},
            account={"Room": text},
        )
        for index, text in enumerate(HOSTILE)
    ]


def assert_inert(html: str) -> None:
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert 'href="javascript:' not in html and "href='javascript:" not in html
    assert "onerror=alert(1)>" not in html.replace("onerror=alert(1)&gt;", "")
    # No attribute was broken out of: every quote from the data is an entity.
    assert '"><img' not in html


def pages(client: Client, computers: list[Computer]) -> dict[str, str]:
    urls = {
        "dashboard": "/",
        "list": "/computers/",
        "tags": "/tags/",
        "search": "/search/?field=software&op=EQUAL&value=*&value2=",
        "search-echo": "/search/?field=name&op=EQUAL&value=%22%3E%3Cimg+src%3Dx+onerror%3Dalert(1)%3E",
    }
    urls.update({f"computer-{c.pk}": f"/computers/{c.pk}/" for c in computers})
    result = {}
    for name, url in urls.items():
        response = client.get(url, secure=True)
        assert response.status_code == 200, name
        result[name] = response.content.decode()
    return result


def test_hostile_strings_render_as_text_on_every_page(admin_console: Client, hostile: list[Computer]) -> None:
    rendered = pages(admin_console, hostile)
    for name, html in rendered.items():
        assert_inert(html)
        if name in ("dashboard", "list", "tags", "search"):
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, name
    for computer, text in zip(hostile, HOSTILE, strict=True):
        html = rendered[f"computer-{computer.pk}"]
        # Name, TAG, OS, software, printer, registry, monitor, serial, account info...
        assert html.count(escape(text)) >= 10, text
    detail = rendered[f"computer-{hostile[1].pk}"]
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in detail
    # Templates are never evaluated twice: the braces stay text.
    assert "<h1>{{7*7}}</h1>" in rendered[f"computer-{hostile[3].pk}"]


def test_hostile_strings_in_charts_are_escaped_text_and_tooltips(
    admin_console: Client, hostile: list[Computer]
) -> None:
    dashboard = admin_console.get("/", secure=True).content.decode()
    svg = dashboard.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;: 1</title>" in svg
    assert "<script" not in svg and "<img" not in svg
    tags = admin_console.get("/tags/", secure=True).content.decode()
    tags_svg = tags.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "javascript:alert(1)" in tags_svg  # as text...
    assert 'href="javascript' not in tags_svg  # ...never as a link target
    assert "style=" not in dashboard and "style=" not in tags


def test_hostile_strings_in_the_csv_stay_plain_cells(admin_console: Client, hostile: list[Computer]) -> None:
    response = admin_console.get("/computers/export.csv", secure=True)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(row[0] for row in rows[1:]) == sorted(HOSTILE)


def test_hostile_strings_in_search_values_are_echoed_as_text(admin_console: Client, hostile: Any) -> None:
    html = admin_console.get(
        "/search/", {"field": "name", "op": "EQUAL", "value": HOSTILE[1], "value2": ""}, secure=True
    ).content.decode()
    assert 'value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"' in html
    assert_inert(html)
