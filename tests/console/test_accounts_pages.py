"""Console pages for accounts: HTTPS only, CSP, login, logout, my account, users, audit."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from ocelot.accounts.models import AuditEntry, Profile

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture
def admin():  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_superuser(username="boss", password=PASSWORD)
    Profile.objects.create(user=user)
    return user


@pytest.fixture
def reader():  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user(username="reader", password=PASSWORD)
    Profile.objects.create(user=user, allowed_tags=["PARIS"])
    return user


def test_the_console_over_plain_http_redirects_to_https(client: Client) -> None:
    response = client.get("/login/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_pages_send_a_content_security_policy_without_inline_scripts(client: Client) -> None:
    response = client.get("/login/", secure=True)
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert b"<script>" not in response.content
    assert response["X-Content-Type-Options"] == "nosniff"


def test_anonymous_visitors_are_sent_to_the_login_page(client: Client) -> None:
    response = client.get("/computers/", secure=True)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_logging_in_with_the_form_opens_a_new_session(client: Client, admin) -> None:  # type: ignore[no-untyped-def]
    client.get("/login/", secure=True)
    before = client.session.session_key
    response = client.post("/login/", {"username": "boss", "password": PASSWORD, "next": "/"}, secure=True)
    assert response.status_code == 302
    assert client.session.session_key != before
    assert client.get("/", secure=True).status_code == 200


def test_a_wrong_password_shows_a_generic_error(client: Client, admin) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/login/", {"username": "boss", "password": "nope"}, secure=True)
    assert response.status_code == 200
    assert b"Invalid user name or password." in response.content


def test_login_never_redirects_to_another_site(client: Client, admin) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/login/", {"username": "boss", "password": PASSWORD, "next": "https://evil.example/"}, secure=True
    )
    assert response["Location"] == "/"


def test_logout_needs_post(client: Client, admin) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin)
    assert client.get("/logout/", secure=True).status_code == 405
    assert client.post("/logout/", secure=True).status_code == 302
    assert client.get("/", secure=True).status_code == 302


def test_state_changes_need_a_csrf_token(admin) -> None:  # type: ignore[no-untyped-def]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin)
    response = strict.post("/users/new/", {"username": "eve"}, secure=True)
    assert response.status_code == 403
    assert not get_user_model().objects.filter(username="eve").exists()


def test_a_read_only_user_cannot_reach_user_management_or_the_audit_log(client: Client, reader) -> None:  # type: ignore[no-untyped-def]
    client.force_login(reader)
    for url in ("/users/", "/audit/", "/configuration/"):
        assert client.get(url, secure=True).status_code == 403
    assert client.post("/users/new/", {"username": "eve"}, secure=True).status_code == 403
    assert not get_user_model().objects.filter(username="eve").exists()


def test_an_administrator_creates_a_user_whose_password_is_shown_once(client: Client, admin) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin)
    client.post("/users/new/", {"username": "helpdesk", "tags": "PARIS, LYON"}, secure=True)
    page = client.get("/users/", secure=True).content.decode()
    assert "helpdesk" in page
    assert "shown only once" in page
    assert "shown only once" not in client.get("/users/", secure=True).content.decode()
    assert Profile.objects.get(user__username="helpdesk").allowed_tags == ["PARIS", "LYON"]
    assert AuditEntry.objects.filter(action="user.create", target="helpdesk").exists()


def test_the_audit_log_lists_state_changes(client: Client, admin) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin)
    client.post("/users/new/", {"username": "<b>x</b>"}, secure=True)
    client.post("/users/new/", {"username": "carol"}, secure=True)
    page = client.get("/audit/?q=user.create", secure=True).content.decode()
    assert "carol" in page
    assert "<b>x</b>" not in page


def test_a_user_chooses_the_console_language(client: Client, admin) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin)
    client.post("/account/language/", {"language": "fr"}, secure=True)
    assert Profile.objects.get(user=admin).language == "fr"
    response = client.get("/account/", secure=True)
    assert response.headers.get("Content-Language") == "fr"
    client.post("/account/language/", {"language": "xx"}, secure=True)
    assert Profile.objects.get(user=admin).language == "fr"


def test_the_browser_language_is_used_by_default(client: Client, admin) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin)
    response = client.get("/account/", secure=True, headers={"Accept-Language": "es"})
    assert response.headers.get("Content-Language") == "es"
