"""Console pages for accounts: HTTPS only, CSP, login, logout, my account, users, audit."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from ocelot.accounts.models import ApiToken, AuditEntry, Profile
from ocelot.accounts.tokens import create_token

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


def test_a_user_creates_an_api_token_whose_secret_is_shown_once(client: Client, reader) -> None:  # type: ignore[no-untyped-def]
    client.force_login(reader)
    response = client.post("/account/tokens/", {"name": "reporting <script>"}, secure=True)
    assert response.status_code == 200
    page = response.content.decode()
    secret = page.split('class="secret token-secret">')[1].split("<")[0]
    assert secret.startswith("ocl_") and len(secret) > 40
    assert "reporting &lt;script&gt;" in page and "<script>" not in page
    # The secret works for the API, and is never shown again.
    me = client.get("/api/v1/me", secure=True, headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["username"] == "reader"
    again = client.get("/account/", secure=True).content.decode()
    assert secret not in again and secret[:12] in again
    assert "never" not in again.split("reporting")[1].split("</tr>")[0]  # just used
    token = ApiToken.objects.get(user=reader)
    entry = AuditEntry.objects.get(action="token.create")
    assert (entry.username, entry.target, entry.details["name"]) == ("reader", "reader", token.name)
    assert secret not in str(entry.details)


def test_a_token_needs_a_name(client: Client, reader) -> None:  # type: ignore[no-untyped-def]
    client.force_login(reader)
    response = client.post("/account/tokens/", {"name": "  "}, secure=True)
    assert response.status_code == 302
    assert not ApiToken.objects.exists()


def test_a_user_revokes_only_their_own_tokens(client: Client, reader, admin) -> None:  # type: ignore[no-untyped-def]
    mine, secret = create_token(reader, "mine")
    theirs, _ = create_token(admin, "theirs")
    client.force_login(reader)
    assert client.post(f"/account/tokens/{theirs.pk}/revoke/", secure=True).status_code == 302
    assert ApiToken.objects.filter(pk=theirs.pk).exists()
    assert not AuditEntry.objects.filter(action="token.revoke").exists()
    client.post(f"/account/tokens/{mine.pk}/revoke/", secure=True)
    assert not ApiToken.objects.filter(pk=mine.pk).exists()
    assert (
        client.get("/api/v1/me", secure=True, headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )
    entry = AuditEntry.objects.get(action="token.revoke")
    assert (entry.username, entry.details["name"]) == ("reader", "mine")


def test_token_changes_need_post_and_a_csrf_token(reader) -> None:  # type: ignore[no-untyped-def]
    token, _ = create_token(reader, "kept")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(reader)
    assert strict.get("/account/tokens/", secure=True).status_code == 405
    assert strict.get(f"/account/tokens/{token.pk}/revoke/", secure=True).status_code == 405
    assert strict.post("/account/tokens/", {"name": "x"}, secure=True).status_code == 403
    assert strict.post(f"/account/tokens/{token.pk}/revoke/", secure=True).status_code == 403
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["kept"]


def test_the_language_confirmation_speaks_the_new_language(client: Client, admin) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin)
    page = client.post("/account/language/", {"language": "fr"}, secure=True, follow=True).content.decode()
    assert "Langue enregistrée." in page
    page = client.post("/account/language/", {"language": "es"}, secure=True, follow=True).content.decode()
    assert "Idioma guardado." in page


def test_the_favicon_is_served_for_pages_without_an_icon_link(client: Client) -> None:
    response = client.get("/favicon.ico", secure=True)
    assert response.status_code == 302
    icon = client.get(response["Location"], secure=True)
    assert icon.status_code == 200
    assert icon["Content-Type"].startswith("image/svg+xml")
