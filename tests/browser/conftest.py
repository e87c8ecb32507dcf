"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, against a real
``ocelot server`` on the test database.

Every page records JavaScript dialogs, console errors (CSP violations among them) and
failed requests; :func:`assert_clean` fails a test that saw any.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from playwright.sync_api import Browser, Page, sync_playwright

from tests.server_process import OcelotServer

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
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)


@dataclass
class Console:
    """A browser tab on the console, with what it observed."""

    page: Page
    base: str
    seen: Observed

    def go(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def login(self, username: str, password: str = PASSWORD) -> None:
        self.go("/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def assert_clean(self) -> None:
        assert self.seen.dialogs == [], f"dialogs opened: {self.seen.dialogs}"
        assert self.seen.console_errors == [], f"console errors: {self.seen.console_errors}"


def open_console(browser: Browser, server: OcelotServer, viewport: dict[str, int] = DESKTOP) -> Console:
    context = browser.new_context(ignore_https_errors=True, viewport=viewport)  # loopback test CA
    page = context.new_page()
    seen = Observed()

    def on_dialog(dialog: Any) -> None:
        seen.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on(
        "console",
        lambda message: seen.console_errors.append(message.text) if message.type == "error" else None,
    )
    page.on("requestfailed", lambda request: seen.failed_requests.append(request.url))
    return Console(page, f"https://127.0.0.1:{server.https_port}", seen)


def password_hash(password: str = PASSWORD) -> str:
    """A hash the server process accepts (the test process itself uses a fast hasher)."""
    return PBKDF2PasswordHasher().encode(password, PBKDF2PasswordHasher().salt(), iterations=1000)
