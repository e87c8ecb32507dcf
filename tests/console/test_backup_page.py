"""The backup download page: administrators only, the password again, audited, streamed.

The real ``write_backup`` makes the archive a download gives (and ``verify_archive``, what
``ocelot restore --check`` runs, accepts it); a fake writer of 64 MiB shows the page never
holds an archive in memory and stops writing when the client goes away.
"""

from __future__ import annotations

import dataclasses
import threading
import tracemalloc
from pathlib import Path
from typing import IO, Any

import pytest
from django.http import StreamingHttpResponse
from django.test import Client

from ocelot.accounts.models import AuditEntry
from ocelot.server.backup import verify_archive

PASSWORD = "not used here 1"  # tests/console/conftest.py's administrator
MIB = 1024 * 1024
WRITTEN: dict[str, Any] = {}


def large_writer(destination: IO[bytes], home: Path) -> None:
    """64 MiB in 1 MiB writes; records how it ended."""
    WRITTEN.update(total=0, broken=False, finished=False)
    block = b"\x5a" * MIB
    try:
        for _ in range(64):
            destination.write(block)
            WRITTEN["total"] += MIB
    except BrokenPipeError:
        WRITTEN["broken"] = True
        raise
    WRITTEN["finished"] = True


@pytest.fixture
def home(settings: Any, tmp_path: Path) -> Path:
    settings.CONFIG = dataclasses.replace(settings.CONFIG, home=tmp_path / "home")
    (tmp_path / "home" / "pki").mkdir(parents=True)
    (tmp_path / "home" / "pki" / "ca.key").write_text("the CA's private key\n")
    return tmp_path / "home"


def test_the_page_asks_an_administrator_for_the_password_again(admin_console: Client) -> None:
    response = admin_console.get("/backup/", secure=True)
    assert response.status_code == 200
    assert b'type="password" name="password"' in response.content
    assert b'href="/backup/"' in response.content  # in the menu


def test_other_users_and_visitors_get_nothing(reader_console: Client, paris_reader: Any) -> None:
    assert reader_console.get("/backup/", secure=True).status_code == 403
    assert reader_console.post("/backup/", {"password": "not used here 2"}, secure=True).status_code == 403
    assert b'href="/backup/"' not in reader_console.get("/", secure=True).content
    visitor = Client().post("/backup/", {"password": PASSWORD}, secure=True)
    assert visitor.status_code == 302 and "/login/" in visitor["Location"]
    assert not AuditEntry.objects.filter(action__startswith="backup").exists()


def test_a_live_session_without_the_right_password_downloads_nothing_and_is_audited(
    admin_console: Client, administrator: Any
) -> None:
    for _ in range(4):
        response = admin_console.post("/backup/", {"password": "wrong"}, secure=True)
        assert response.status_code == 403
        assert not isinstance(response, StreamingHttpResponse)
        assert b"Wrong password" in response.content
    refused = AuditEntry.objects.filter(action="backup.refused")
    assert refused.count() == 4 and refused.first().username == administrator.username  # type: ignore[union-attr]
    assert admin_console.post("/backup/", {"password": ""}, secure=True).status_code in (403, 429)
    # Throttled as logins are: even the right password waits now.
    throttled = admin_console.post("/backup/", {"password": PASSWORD}, secure=True)
    assert throttled.status_code == 429 and b"Too many failed attempts" in throttled.content
    assert not AuditEntry.objects.filter(action="backup.download").exists()


@pytest.mark.django_db(transaction=True)
def test_the_right_password_downloads_the_archive_ocelot_restore_accepts(
    home: Path, tmp_path: Path, administrator: Any
) -> None:
    client = Client(REMOTE_ADDR="192.0.2.7")
    client.force_login(administrator)
    response = client.post("/backup/", {"password": PASSWORD}, secure=True)
    assert response.status_code == 200 and isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "application/x-tar"
    assert response["Content-Disposition"].startswith('attachment; filename="ocelot-backup-')
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    archive = tmp_path / "download.tar"
    with archive.open("wb") as out:
        for block in response.streaming_content:
            out.write(block)  # type: ignore[arg-type]
    manifest = verify_archive(archive)
    users = next(entry for entry in manifest.tables if entry.model == "auth.user")
    assert users.rows >= 1
    assert "files/pki/ca.key" in manifest.members
    (entry,) = AuditEntry.objects.filter(action="backup.download")
    assert (entry.username, entry.address) == (administrator.username, "192.0.2.7")


def test_the_archive_streams_without_being_held_in_memory(
    admin_console: Client, home: Path, settings: Any
) -> None:
    settings.OCELOT_BACKUP_WRITER = "tests.console.test_backup_page.large_writer"
    tracemalloc.start()
    try:
        response = admin_console.post("/backup/", {"password": PASSWORD}, secure=True)
        total = 0
        for block in response.streaming_content:  # type: ignore[attr-defined]
            total += len(block)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 64 * MIB and WRITTEN["finished"]
    assert peak < 8 * MIB, f"{peak / MIB:.1f} MiB traced while streaming 64 MiB"


def test_a_client_that_goes_away_stops_the_writer(admin_console: Client, home: Path, settings: Any) -> None:
    settings.OCELOT_BACKUP_WRITER = "tests.console.test_backup_page.large_writer"
    response = admin_console.post("/backup/", {"password": PASSWORD}, secure=True)
    stream = iter(response.streaming_content)  # type: ignore[attr-defined]
    assert len(next(stream)) > 0
    response.close()  # what the WSGI server does when the connection drops
    assert WRITTEN["broken"] and not WRITTEN["finished"]
    assert WRITTEN["total"] < 64 * MIB
    assert not [thread for thread in threading.enumerate() if thread.name == "backup-download"]


@pytest.mark.parametrize(
    ("language", "heading", "button"),
    [
        ("fr", "Sauvegarde", "Télécharger la sauvegarde"),
        ("es", "Copia de seguridad", "Descargar la copia de seguridad"),
    ],
)
def test_the_page_speaks_french_and_spanish(
    admin_console: Client, language: str, heading: str, button: str
) -> None:
    page = admin_console.get("/backup/", secure=True, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f"<h1>{heading}</h1>" in page and button in page
    refused = admin_console.post(
        "/backup/", {"password": "wrong"}, secure=True, HTTP_ACCEPT_LANGUAGE=language
    )
    assert (
        "Mot de passe incorrect" if language == "fr" else "Contraseña incorrecta"
    ) in refused.content.decode()
