"""The console warns administrators 30 days before the server certificate or the CA expires."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from django.test import Client

from ocelot.server.certificates import renew_server
from ocelot.server.pki import ensure_pki
from tests.console.conftest import admin_console, administrator, paris_reader, reader_console

__all__ = ["admin_console", "administrator", "paris_reader", "reader_console"]

pytestmark = pytest.mark.django_db

BANNER = "certificate-warnings"


@pytest.fixture
def pki_home(settings: Any, tmp_path: Any) -> Any:
    home = tmp_path / "home"
    ensure_pki(home / "pki", home / "public", names=["localhost"])
    settings.CONFIG = dataclasses.replace(settings.CONFIG, home=home)
    return home


def page(client: Client) -> str:
    response = client.get("/", secure=True)
    assert response.status_code == 200
    return response.content.decode()


def test_no_banner_while_the_certificates_have_more_than_30_days(admin_console, pki_home):
    assert BANNER not in page(admin_console)


def test_administrators_see_the_banner_when_the_server_certificate_expires_within_30_days(
    admin_console, pki_home
):
    renewed = renew_server(pki_home / "pki", pki_home / "public", days=29)
    text = page(admin_console)
    assert BANNER in text
    assert f"expires on {renewed.not_after:%Y-%m-%d %H:%M} UTC" in text
    assert "ocelot certs renew" in text


def test_other_users_do_not_see_it(reader_console, pki_home):
    renew_server(pki_home / "pki", pki_home / "public", days=29)
    assert BANNER not in page(reader_console)


def test_the_banner_speaks_the_administrators_language(admin_console, pki_home):
    renew_server(pki_home / "pki", pki_home / "public", days=29)
    french = admin_console.get("/", secure=True, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Le certificat du serveur expire le" in french
    spanish = admin_console.get("/", secure=True, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "El certificado del servidor caduca el" in spanish
