"""The API under test: an HTTPS test client, users with tokens, and computers in two TAGs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.test import Client

from ocelot.accounts.administrators import create_user
from ocelot.accounts.tokens import create_token
from ocelot.inventory.ingest import store_inventory
from ocelot.inventory.models import Computer
from tests.inventory.payloads import small_inventory, unix_inventory


@dataclass
class Caller:
    """A user's view of the API: every request over HTTPS with the user's token."""

    client: Client
    token: str
    username: str

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, params: dict[str, Any] | None = None) -> HttpResponse:
        return self.client.get(path, params or {}, secure=True, headers=self._headers())

    def _send(self, method: str, path: str, body: Any = None) -> HttpResponse:
        send: Callable[..., HttpResponse] = getattr(self.client, method)
        if body is None:
            return send(path, secure=True, headers=self._headers())
        return send(path, body, content_type="application/json", secure=True, headers=self._headers())

    def put(self, path: str, body: Any = None) -> HttpResponse:
        return self._send("put", path, body)

    def post(self, path: str, body: Any = None) -> HttpResponse:
        return self._send("post", path, body)

    def patch(self, path: str, body: Any = None) -> HttpResponse:
        return self._send("patch", path, body)

    def delete(self, path: str, body: Any = None) -> HttpResponse:
        return self._send("delete", path, body)


def caller_for(username: str, *, administrator: bool, allowed_tags: tuple[str, ...] = ()) -> Caller:
    create_user(username, administrator=administrator, allowed_tags=allowed_tags)
    user = get_user_model().objects.get(username=username)
    return Caller(Client(), create_token(user, "tests")[1], username)


@pytest.fixture
def admin(db: None) -> Caller:
    return caller_for("root", administrator=True)


@pytest.fixture
def reader(db: None) -> Caller:
    """A read-only user who may see only the computers tagged PARIS."""
    return caller_for("paris-reader", administrator=False, allowed_tags=("PARIS",))


def tagged(tag: str) -> str:
    return f"<ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>{tag}</KEYVALUE></ACCOUNTINFO>"


def add_computer(device_id: str, tag: str, body: str = "") -> Computer:
    store_inventory(small_inventory(device_id, tagged(tag) + body))
    return Computer.objects.get(device_id=device_id)


@pytest.fixture
def fleet(db: None) -> dict[str, Computer]:
    """Three computers: the captured Unix agent's and a small one in PARIS, one in LYON."""
    store_inventory(unix_inventory(tag="PARIS"))
    software = (
        "<SOFTWARES><NAME>Firefox</NAME><PUBLISHER>Mozilla</PUBLISHER><VERSION>128.0</VERSION></SOFTWARES>"
        "<SOFTWARES><NAME>LibreOffice</NAME><PUBLISHER>TDF</PUBLISHER><VERSION>24.8</VERSION></SOFTWARES>"
    )
    return {
        "unix": Computer.objects.get(device_id="vm-2026-11-21-17-46-56"),
        "paris": add_computer("paris-2026-01-01-00-00-00", "PARIS", software),
        "lyon": add_computer("lyon-2026-01-01-00-00-00", "LYON", software),
    }
