"""The console in English, French and Spanish: the browser's language for everyone, the
language chosen in "My account" for a logged-in user (issue 3, "Languages")."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from ocelot.accounts.models import Profile
from tests.browser.conftest import DESKTOP, PHONE, Console, add_computer, make_user, open_console
from tests.server_process import OcelotServer

pytestmark = pytest.mark.django_db(transaction=True)

OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
REVIEW = Path("/tmp/ocelot-screenshots")


def _navigation(console: Console) -> list[str]:
    return [text.strip() for text in console.page.locator("nav.nav a").all_text_contents()]


def test_a_user_who_chose_french_sees_the_console_in_french(
    browser: Browser, ocelot_server: OcelotServer
) -> None:
    make_user("marie", administrator=True, language="fr")
    computer = add_computer(
        "bureau-2026-01-01-00-00-00", name="bureau", memory=8192, tag="PARIS", software=["LibreOffice"]
    )
    console = open_console(browser, ocelot_server, PHONE)  # the browser asks for English
    console.go("/login/")
    assert console.page.get_by_role("button", name="Log in").is_visible()
    console.login("marie")

    assert console.page.locator("html").get_attribute("lang") == "fr"
    assert console.page.locator("h1").inner_text() == "Tableau de bord"
    # In this order, whatever other pages the menu offers between them.
    main_pages = ["Tableau de bord", "Ordinateurs", "Recherche", "TAGs", "Configuration"]
    assert [item for item in _navigation(console) if item in main_pages] == main_pages
    assert "Journal d'audit" in _navigation(console)
    assert console.page.locator(".stat-card").first.inner_text().split() == ["1", "ordinateur"]

    console.go("/computers/")
    assert console.page.locator("h1").inner_text() == "Ordinateurs"
    assert console.page.locator(".results-count").inner_text() == "1 ordinateur"
    assert console.page.get_by_role("link", name="Exporter en CSV").is_visible()
    # Texts translated from data: option help texts and the computer page's columns.
    console.go("/configuration/options/")
    assert console.page.locator("h1").inner_text() == "Options générales"
    help_text = console.page.locator("#option-FREQUENCY .hint").inner_text()
    assert help_text.startswith("Fréquence d'inventaire en jours")
    # French is longer than English: the phone layout still holds (screenshots for review).
    REVIEW.mkdir(parents=True, exist_ok=True)
    for name, path in {
        "dashboard": "/",
        "computers": "/computers/",
        "computer": f"/computers/{computer.pk}/",
        "search": "/search/",
        "configuration": "/configuration/",
        "configuration-options": "/configuration/options/",
        "users": "/users/",
    }.items():
        console.go(path)
        console.page.screenshot(path=str(REVIEW / f"fr-{name}-phone.png"), full_page=True)
        assert console.page.evaluate(OVERFLOW) <= 1, path
    console.assert_clean()


def test_an_anonymous_browser_asking_for_spanish_gets_the_login_page_in_spanish(
    browser: Browser, ocelot_server: OcelotServer
) -> None:
    make_user("boss", administrator=True)
    console = open_console(browser, ocelot_server, DESKTOP, locale="es-ES")
    response = console.go("/login/")
    assert response is not None and response.headers["content-language"] == "es"
    assert console.page.locator("html").get_attribute("lang") == "es"
    assert console.page.title() == "Iniciar sesión · Ocelot"
    assert console.page.get_by_label("Nombre de usuario").is_visible()
    assert console.page.get_by_label("Contraseña").is_visible()
    console.login("boss", "not the password")
    assert console.page.locator("[role=alert]").inner_text() == "Nombre de usuario o contraseña incorrectos."

    console.login("boss")
    assert console.page.locator("h1").inner_text() == "Panel"
    assert _navigation(console)[:3] == ["Panel", "Equipos", "Búsqueda"]
    console.assert_clean()


def test_a_user_overrides_the_browser_language_in_my_account(
    browser: Browser, ocelot_server: OcelotServer
) -> None:
    user = make_user("pablo", administrator=False)
    console = open_console(browser, ocelot_server, DESKTOP, locale="fr-FR")
    console.login("pablo")
    assert console.page.locator("h1").inner_text() == "Tableau de bord"  # the browser's language

    console.go("/account/")
    console.page.get_by_label("Langue de la console").select_option("es")
    console.page.get_by_role("button", name="Enregistrer").click()
    console.page.wait_for_load_state()
    assert console.page.locator("h1").inner_text() == "Mi cuenta"
    assert Profile.objects.get(user=user).language == "es"

    console.page.get_by_label("Idioma de la consola").select_option("")  # back to the browser's
    console.page.get_by_role("button", name="Guardar").click()
    console.page.wait_for_load_state()
    assert console.page.locator("h1").inner_text() == "Mon compte"
    console.assert_clean()
