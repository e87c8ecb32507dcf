"""Console pages for accounts: log in and out, my account, users, the audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout, update_session_auth_hash
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ocelot.accounts import audit as audit_log
from ocelot.accounts.administrators import (
    AccountError,
    change_password,
    create_user,
    delete_user,
    reset_password,
    update_user,
)
from ocelot.accounts.login import LoginRefusedError, check_login
from ocelot.accounts.models import AuditEntry, Profile
from ocelot.accounts.roles import profile_of
from ocelot.accounts.tokens import create_token, revoke_token, tokens_of
from ocelot.console.requests import address_of, admin_view, console_view


def login_page(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=True):
        next_url = "/"
    context = {"next": next_url, "username": "", "error": ""}
    status = 200
    if request.method == "POST":
        username = request.POST.get("username", "")[:150]
        context["username"] = username
        try:
            user = check_login(username, request.POST.get("password", ""), address_of(request))
        except LoginRefusedError as exc:
            status = 429 if exc.wait else 200
            context["error"] = (
                _("Too many failed attempts. Try again in %(seconds)d seconds.") % {"seconds": exc.wait}
                if exc.wait
                else _("Invalid user name or password.")
            )
        else:
            login(request, user)  # a new session id (security.md T42)
            return redirect(next_url)
    return render(request, "console/login.html", context, status=status)


@require_POST
def logout_page(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("console:login")


def _account_page(request: HttpRequest, new_token: str = "", new_token_name: str = "") -> HttpResponse:
    return render(
        request,
        "console/account.html",
        {
            "profile": profile_of(request.user),
            "languages": settings.LANGUAGES,
            "tokens": tokens_of(request.user),
            "new_token": new_token,
            "new_token_name": new_token_name,
        },
    )


@console_view
def account(request: HttpRequest) -> HttpResponse:
    return _account_page(request)


@require_POST
@console_view
def account_language(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    if language not in {"", *(code for code, _name in settings.LANGUAGES)}:
        messages.error(request, _("Unknown language."))
    else:
        profile = profile_of(request.user)
        profile.language = language
        profile.save(update_fields=["language"])
        # The confirmation speaks the language just chosen (empty: the browser's again).
        translation.activate(language or translation.get_language_from_request(request))
        messages.success(request, _("Language saved."))
    return redirect("console:account")


@require_POST
@console_view
def account_password(request: HttpRequest) -> HttpResponse:
    try:
        change_password(
            request.user,
            request.POST.get("old", ""),
            request.POST.get("new", ""),
            address=address_of(request),
        )
    except AccountError as exc:
        messages.error(request, str(exc))
    else:
        update_session_auth_hash(request, request.user)  # type: ignore[arg-type]
        messages.success(request, _("Password changed."))
    return redirect("console:account")


@require_POST
@console_view
def account_token_create(request: HttpRequest) -> HttpResponse:
    """A new API token of mine. Its secret is in this response only (never stored, never
    redirected through the session): reloading the page does not show it again."""
    name = request.POST.get("name", "").strip()[:100]
    if not name:
        messages.error(request, _("Give the token a name, e.g. what will use it."))
        return redirect(reverse("console:account") + "#tokens")
    token, secret = create_token(request.user, name)
    audit_log.record(
        request.user,
        "token.create",
        request.user.get_username(),
        address=address_of(request),
        name=token.name,
    )
    return _account_page(request, new_token=secret, new_token_name=token.name)


@require_POST
@console_view
def account_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = revoke_token(request.user, token_id)
    if token is None:
        messages.error(request, _("No such token."))
    else:
        audit_log.record(
            request.user,
            "token.revoke",
            request.user.get_username(),
            address=address_of(request),
            name=token.name,
            prefix=token.prefix,
        )
        messages.success(request, _("Token revoked: %(name)s.") % {"name": token.name})
    return redirect(reverse("console:account") + "#tokens")


def _tags(raw: str) -> list[str]:
    return [tag.strip() for tag in raw.split(",") if tag.strip()]


@admin_view
def users(request: HttpRequest) -> HttpResponse:
    profiles = {p.user_id: p for p in Profile.objects.all()}
    rows = [
        {"user": user, "tags": profiles[user.pk].allowed_tags if user.pk in profiles else []}
        for user in get_user_model().objects.order_by("username")
    ]
    context = {
        "rows": rows,
        "new_password": request.session.pop("new_password", ""),
        "new_user": request.session.pop("new_user", ""),
    }
    return render(request, "console/users.html", context)


@require_POST
@admin_view
def user_create(request: HttpRequest) -> HttpResponse:
    username = request.POST.get("username", "")
    try:
        password = create_user(
            username,
            administrator=bool(request.POST.get("administrator")),
            allowed_tags=_tags(request.POST.get("tags", "")),
            actor=request.user,
            address=address_of(request),
        )
    except AccountError as exc:
        messages.error(request, str(exc))
    else:
        request.session["new_password"], request.session["new_user"] = password, username.strip()
    return redirect("console:users")


@require_POST
@admin_view
def user_update(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=user_id)
    try:
        update_user(
            request.user,
            user,
            administrator=bool(request.POST.get("administrator")),
            active=bool(request.POST.get("active")),
            allowed_tags=_tags(request.POST.get("tags", "")),
            address=address_of(request),
        )
    except AccountError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("User saved."))
    return redirect("console:users")


@require_POST
@admin_view
def user_password(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=user_id)
    request.session["new_password"] = reset_password(request.user, user, address=address_of(request))
    request.session["new_user"] = user.get_username()
    return redirect("console:users")


@require_POST
@admin_view
def user_delete(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=user_id)
    try:
        delete_user(request.user, user, address=address_of(request))
    except AccountError as exc:
        messages.error(request, str(exc))
    return redirect("console:users")


@admin_view
def audit(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100]
    entries = AuditEntry.objects.all()
    if query:
        entries = entries.filter(
            Q(action__icontains=query) | Q(username__icontains=query) | Q(target__icontains=query)
        )
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    prefix = f"q={query}&" if query else ""
    return render(request, "console/audit.html", {"page": page, "q": query, "query_prefix": prefix})


urlpatterns = [
    path("login/", login_page, name="login"),
    path("logout/", logout_page, name="logout"),
    path("account/", account, name="account"),
    path("account/language/", account_language, name="account-language"),
    path("account/password/", account_password, name="account-password"),
    path("account/tokens/", account_token_create, name="account-token-create"),
    path("account/tokens/<int:token_id>/revoke/", account_token_revoke, name="account-token-revoke"),
    path("users/", users, name="users"),
    path("users/new/", user_create, name="user-create"),
    path("users/<int:user_id>/", user_update, name="user-update"),
    path("users/<int:user_id>/password/", user_password, name="user-password"),
    path("users/<int:user_id>/delete/", user_delete, name="user-delete"),
    path("audit/", audit, name="audit"),
]
