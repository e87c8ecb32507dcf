"""``/healthz``: database, disk space of the package directory, certificate expiry.

Each check is real: the test database, the file system of a temporary home, certificates
made by the server's own CA code. A failing check turns the answer into a 503 for the
load balancer; a certificate close to its end is a warning only.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db.utils import ConnectionHandler

from ocelot.server.certificates import read_certificate
from ocelot.server.config import Config, database_settings
from ocelot.server.health import check_database, health_answer
from ocelot.server.pki import ensure_pki

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("health-home")
    ensure_pki(home / "pki", home / "public", names=["localhost"])
    return home


@pytest.fixture
def config(pki: Path) -> Config:
    (pki / "packages").mkdir(exist_ok=True)
    return dataclasses.replace(settings.CONFIG, home=pki, health_min_free_mb=1)


def answer(config: Config, now: datetime.datetime | None = None) -> tuple[int, dict[str, Any]]:
    status, body = health_answer(config, now)
    return status, json.loads(body)


def server_expiry(config: Config) -> datetime.datetime:
    return read_certificate(config.pki_dir / "server.pem").not_valid_after_utc


def test_a_healthy_server_answers_200_with_every_check_ok(config):
    status, body = answer(config)
    assert status == 200
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "disk", "server_certificate", "ca_certificate"}
    assert {check["status"] for check in body["checks"].values()} == {"ok"}


def test_the_answer_names_no_path_and_no_secret(config):
    _status, body = text_of(config)
    assert str(config.home) not in body
    assert settings.SECRET_KEY not in body
    password = settings.DATABASES["default"].get("PASSWORD")
    assert not password or password not in body


def text_of(config: Config) -> tuple[int, str]:
    status, body = health_answer(config)
    return status, body.decode()


def test_an_unreachable_database_fails_the_check():
    broken = ConnectionHandler({"default": database_settings("sqlite:////nonexistent-dir/ocelot.sqlite3")})
    check = check_database(broken["default"])
    assert check.status == "fail"
    assert check.detail.startswith("unreachable:")


def test_an_unreachable_database_makes_the_answer_503(config):
    broken = ConnectionHandler({"default": database_settings("sqlite:////nonexistent-dir/ocelot.sqlite3")})
    status, body = health_answer(config, database=broken["default"])
    assert status == 503
    assert json.loads(body)["checks"]["database"]["status"] == "fail"


def test_too_little_free_space_for_packages_fails(config):
    status, body = answer(dataclasses.replace(config, health_min_free_mb=10**12))
    assert status == 503
    assert body["checks"]["disk"]["status"] == "fail"
    assert "MiB free" in body["checks"]["disk"]["detail"]


def test_a_certificate_expiring_within_30_days_is_a_warning_not_a_failure(config):
    status, body = answer(config, now=server_expiry(config) - datetime.timedelta(days=10))
    assert status == 200
    assert body["status"] == "warn"
    assert body["checks"]["server_certificate"]["status"] == "warn"
    assert "ocelot certs renew" in body["checks"]["server_certificate"]["detail"]
    assert body["checks"]["ca_certificate"]["status"] == "ok"


def test_an_expired_certificate_fails(config):
    status, body = answer(config, now=server_expiry(config) + datetime.timedelta(seconds=1))
    assert status == 503
    assert body["checks"]["server_certificate"]["status"] == "fail"
    assert "expired" in body["checks"]["server_certificate"]["detail"]


def test_a_missing_certificate_fails(tmp_path):
    (tmp_path / "packages").mkdir()
    config = dataclasses.replace(settings.CONFIG, home=tmp_path, health_min_free_mb=1)
    status, body = answer(config)
    assert status == 503
    assert body["checks"]["server_certificate"]["status"] == "fail"
    assert body["checks"]["ca_certificate"]["status"] == "fail"


def call(application: Any, path: str, **environ: str) -> tuple[str, dict[str, str], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    base = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.7",
        "HTTP_HOST": "127.0.0.1:8080",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
    }
    body = b"".join(application({**base, **environ}, start_response))
    return seen["status"], seen["headers"], body


@pytest.mark.django_db(transaction=True)
def test_healthz_answers_on_plain_http_from_anywhere_without_a_redirect():
    from ocelot.server.wsgi import application

    status, headers, body = call(application, "/healthz")
    assert status.split()[0] in ("200", "503")
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["checks"]["database"]["status"] == "ok"
