"""``ocelot tokens``: create prints a secret once that works against the API; list shows
a user's tokens without their secrets."""

from __future__ import annotations

import pytest
from django.test import Client

from ocelot.accounts.administrators import create_user
from ocelot.accounts.models import ApiToken, AuditEntry
from ocelot.cli.main import main

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(db: None) -> None:
    create_user("alice", administrator=False, allowed_tags=["PARIS"])


def test_create_prints_a_token_that_works_against_the_api(
    alice: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tokens", "create", "alice", "--name", "inventory export"]) == 0
    secret = capsys.readouterr().out.strip().rsplit(" ", 1)[-1]
    response = Client().get("/api/v1/me", secure=True, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert response.json() == {"username": "alice", "administrator": False}
    token = ApiToken.objects.get()
    assert token.name == "inventory export"
    assert secret not in (token.key_hash, token.prefix)
    assert AuditEntry.objects.filter(action="token.create", target="alice").exists()


def test_list_shows_prefix_and_name_but_never_the_secret(
    alice: None, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["tokens", "create", "alice"])
    secret = capsys.readouterr().out.strip().rsplit(" ", 1)[-1]
    assert main(["tokens", "list", "alice"]) == 0
    listing = capsys.readouterr().out
    assert secret[:12] in listing
    assert "cli" in listing
    assert "last used never" in listing
    assert secret not in listing


@pytest.mark.parametrize("action", ["create", "list"])
def test_an_unknown_user_is_one_line_on_stderr(action: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tokens", action, "nobody"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "ocelot tokens: no user named 'nobody'\n"
    assert not ApiToken.objects.exists()
