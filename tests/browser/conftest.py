"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, against a real
``ocelot server`` on the test database.

Every page records JavaScript dialogs, console errors (CSP violations among them) and
failed requests; :func:`assert_clean` fails a test that saw any. A confirmation the test
expects (``data-confirm`` buttons) is accepted inside ``with console.confirming():``.

One real server serves every browser module of the session (a start costs 10-40 s on a
busy machine); the tests are transactional, so the database is emptied after each one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from pytest_django import DjangoDbBlocker

from ocelot.accounts.models import Profile
from ocelot.inventory.ingest import store_inventory
from ocelot.inventory.models import Computer
from ocelot.protocol.messages import Inventory, read_request
from ocelot.protocol.xmltree import parse_xml
from tests import server_process
from tests.server_process import OcelotServer, current_test_database_url, start_server

# Playwright's sync API runs an event loop in the test's thread; the ORM calls the tests
# make in between are ordinary synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
# As the machine's probe runs it: no sandbox as root, and nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def ocelot_server(
    django_db_setup: None,
    django_db_blocker: DjangoDbBlocker,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OcelotServer]:
    """One real ``ocelot server`` for all browser modules (overrides the per-module one).

    It gets 16 threads instead of the test default of 4: a browser opens several
    connections per tab, and a TLS connection that never sends a request holds a gunicorn
    thread until the client closes it, so 4 threads starve under Chromium's speculative
    connections.
    """
    original = server_process.ocelot_environment

    def roomier(home: Path, database_url: str | None) -> dict[str, str]:
        return {**original(home, database_url), "OCELOT_THREADS": "16"}

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(server_process, "ocelot_environment", roomier)
        server = start_server(tmp_path_factory.mktemp("ocelot-server"), current_test_database_url())
    try:
        yield server
    finally:
        code = server.stop()
        with django_db_blocker.unblock():
            from django.core.management import call_command

            call_command("flush", interactive=False, verbosity=0)
    assert code == 0, f"ocelot server exited with {code}:\n{server.output()}"


_OPEN_CONTEXTS: list[BrowserContext] = []


@pytest.fixture(autouse=True)
def _close_browser_tabs() -> Iterator[None]:
    """Close the test's browser contexts: their idle (pre)connections would otherwise stay
    open on the server, whose few threads later tests need."""
    yield
    while _OPEN_CONTEXTS:
        _OPEN_CONTEXTS.pop().close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Observed:
    """What a page did that a clean page never does."""

    dialogs: list[str] = field(default_factory=list)
    confirmed: list[str] = field(default_factory=list)
    accept_confirms: bool = False
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    error_responses: list[str] = field(default_factory=list)


@dataclass
class Console:
    """A browser tab on the console, with what it observed."""

    page: Page
    base: str
    seen: Observed

    def go(self, path: str) -> Any:
        """Open a console path; returns the response (``.status``, ``.headers``)."""
        return self.page.goto(self.base + path)

    def status(self, path: str) -> int:
        response = self.go(path)
        assert response is not None
        return int(response.status)

    @contextlib.contextmanager
    def confirming(self) -> Iterator[list[str]]:
        """Accept the confirmations (``data-confirm``) asked inside the block; yields their texts."""
        self.seen.accept_confirms = True
        try:
            yield self.seen.confirmed
        finally:
            self.seen.accept_confirms = False

    def text(self) -> str:
        """The visible text of the page."""
        return self.page.locator("body").inner_text()

    def message(self) -> str:
        """The messages shown after a change (success, warning or error)."""
        return self.page.locator("ul.messages").inner_text()

    def login(self, username: str, password: str = PASSWORD) -> None:
        self.go("/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def assert_clean(self) -> None:
        assert self.seen.dialogs == [], f"dialogs opened: {self.seen.dialogs}"
        assert self.seen.console_errors == [], (
            f"console errors: {self.seen.console_errors} (responses: {self.seen.error_responses})"
        )


def open_console(
    browser: Browser, server: OcelotServer, viewport: dict[str, int] = DESKTOP, locale: str = "en-US"
) -> Console:
    """A new browser tab (its own cookies) whose browser asks for ``locale`` (Accept-Language)."""
    # ignore_https_errors: the server's certificate comes from its own loopback test CA.
    context = browser.new_context(ignore_https_errors=True, viewport=viewport, locale=locale)
    _OPEN_CONTEXTS.append(context)
    page = context.new_page()
    seen = Observed()

    def on_dialog(dialog: Any) -> None:
        if dialog.type == "confirm" and seen.accept_confirms:
            seen.confirmed.append(dialog.message)
            dialog.accept()
            return
        seen.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on(
        "console",
        lambda message: seen.console_errors.append(message.text) if message.type == "error" else None,
    )
    page.on("requestfailed", lambda request: seen.failed_requests.append(request.url))
    page.on(
        "response",
        lambda response: (
            seen.error_responses.append(f"{response.status} {response.url}")
            if response.status >= 400
            else None
        ),
    )
    return Console(page, f"https://127.0.0.1:{server.https_port}", seen)


def password_hash(password: str = PASSWORD) -> str:
    """A hash the server process accepts (the test process itself uses a fast hasher)."""
    return PBKDF2PasswordHasher().encode(password, PBKDF2PasswordHasher().salt(), iterations=1000)


def make_user(
    username: str, *, administrator: bool, allowed_tags: Iterable[str] = (), language: str = ""
) -> Any:
    """A user the server process can log in (PASSWORD), with a profile."""
    user = get_user_model().objects.create(
        username=username, is_superuser=administrator, is_staff=administrator, password=password_hash()
    )
    Profile.objects.create(user=user, allowed_tags=list(allowed_tags), language=language)
    return user


def _element(tag: str, text: object) -> str:
    return f"<{tag}>{escape(str(text))}</{tag}>"


def inventory_xml(
    device_id: str,
    *,
    name: str,
    memory: int | None = None,
    os_name: str = "Debian GNU/Linux 13",
    tag: str | None = None,
    software: Iterable[str] = (),
    printers: Iterable[str] = (),
    registry: Iterable[tuple[str, str]] = (),
    serial: str = "",
    macs: Iterable[str] = (),
) -> bytes:
    """An agent's inventory with every text XML-escaped (values may be anything)."""
    hardware = _element("NAME", name) + _element("OSNAME", os_name)
    if memory is not None:
        hardware += _element("MEMORY", memory)
    body = f"<HARDWARE>{hardware}</HARDWARE>"
    if serial:
        body += f"<BIOS>{_element('SSN', serial)}</BIOS>"
    body += "".join(
        f"<NETWORKS>{_element('MACADDR', mac)}{_element('DESCRIPTION', 'eth0')}</NETWORKS>" for mac in macs
    )
    about = _element("PUBLISHER", "Example") + _element("VERSION", "1.0")
    body += "".join(f"<SOFTWARES>{_element('NAME', item)}{about}</SOFTWARES>" for item in software)
    body += "".join(f"<PRINTERS>{_element('NAME', item)}</PRINTERS>" for item in printers)
    body += "".join(
        f"<REGISTRY>{_element('NAME', key)}{_element('REGVALUE', value)}</REGISTRY>"
        for key, value in registry
    )
    if tag is not None:
        body += f"<ACCOUNTINFO><KEYNAME>TAG</KEYNAME>{_element('KEYVALUE', tag)}</ACCOUNTINFO>"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><REQUEST><CONTENT>{body}</CONTENT>'
        f"{_element('DEVICEID', device_id)}<QUERY>INVENTORY</QUERY></REQUEST>"
    ).encode()


def add_computer(
    device_id: str, *, user_agent: str = "OCS-NG_unified_unix_agent_v2.10.0", **fields: Any
) -> Computer:
    """Store an inventory as an agent would send it (see :func:`inventory_xml`); the computer."""
    message = read_request(parse_xml(inventory_xml(device_id, **fields)))
    assert isinstance(message, Inventory)
    store_inventory(message, source_ip="192.0.2.10", user_agent=user_agent)
    return Computer.objects.get(device_id=device_id)
