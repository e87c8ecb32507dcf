"""Console pages for packages: list, build form (fragment count and waiting time per priority,
the upload streamed to disk), package page (activate with its check and warnings, deactivate
and delete behind a confirmation page, assign to a group), statistics (chart, computers,
validation, self-refresh) and the Deploy box of a computer and of the search results."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ocelot.accounts.models import AuditEntry
from ocelot.deployment.activation import activate
from ocelot.deployment.assignment import assign
from ocelot.deployment.build import PackageRequest, build_package
from ocelot.deployment.groups import add_to_group, create_static_group
from ocelot.deployment.models import Activation, Assignment, GroupAssignment, Package
from ocelot.inventory.models import Computer
from tests.deployment.archives import tar_gz, zip_file
from tests.inventory.computer_factory import make_computer

pytestmark = pytest.mark.django_db

SCRIPT = b"#!/bin/sh\nexit 3\n"
ARCHIVE = tar_gz(("run.sh", SCRIPT), ("data.bin", bytes(range(256)) * 100))


@pytest.fixture(autouse=True)
def home(tmp_path: Path, settings: Any) -> Path:
    settings.CONFIG = dataclasses.replace(settings.CONFIG, home=tmp_path / "home")
    return tmp_path / "home"


@pytest.fixture
def fleet() -> dict[str, Computer]:
    return {
        "paris-01": make_computer("paris-01", tag="PARIS"),
        "paris-02": make_computer("paris-02", tag="PARIS"),
        "lyon-01": make_computer("lyon-01", tag="LYON"),
    }


def get(client: Client, url: str, **params: Any) -> Any:
    return client.get(url, params, secure=True)


def post(client: Client, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, data, secure=True)


def launch_package(name: str = "tool") -> Package:
    request = PackageRequest(name=name, os="linux", action="LAUNCH", command="run.sh", fragment_count=3)
    return build_package(request, io.BytesIO(ARCHIVE))


def activated(name: str = "tool") -> Activation:
    return activate(
        launch_package(name), "ocs.example.org/download", "ocs.example.org/download", check=False
    ).activation


def build_form(**fields: Any) -> dict[str, Any]:
    return {
        "name": "putty",
        "os": "windows",
        "protocol": "HTTP",
        "priority": "5",
        "action": "STORE",
        "path": r"C:\Program Files\PuTTY",
        "fragment_mode": "count",
        "fragments": "2",
        "file": SimpleUploadedFile("putty.zip", zip_file(("putty.exe", b"MZ" + bytes(range(256)) * 40))),
        **fields,
    }


# ---------------------------------------------------------------- list and build


def test_the_navigation_and_the_list_show_packages_and_activations(admin_console: Client) -> None:
    activation = activated()
    page = get(admin_console, "/packages/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'href="/packages/"' in html
    assert "tool" in html and "https://ocs.example.org/download" in html
    assert "Not notified" in html and "Build a package" in html
    assert f"/packages/{activation.package.package_id}/statistics/?activation={activation.pk}" in html


def test_the_build_form_shows_the_fragment_count_and_the_waiting_time_per_priority(
    admin_console: Client,
) -> None:
    page = get(admin_console, "/packages/new/", fragments="4")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in html
    assert "<strong data-estimate-count-value>4</strong>" in html
    # Default latencies (10 s per fragment, 60 s per cycle, 10 cycles): priority 5 needs 5 steps.
    assert html.count("data-estimate-cell") == 11
    assert "/static/console/packages.js" in html
    assert "<script>" not in html  # no inline script: the CSP forbids it
    # Without script, the estimate is asked for by its own GET form, never the build form
    # (whose CSRF token would land in the URL).
    assert '<form id="estimate-form" method="get" action="/packages/new/"></form>' in html
    assert 'form="estimate-form"' in html and "formmethod" not in html


def test_an_administrator_builds_a_store_package_from_an_upload(admin_console: Client, home: Path) -> None:
    response = post(
        admin_console, "/packages/build/", build_form(notify_user="on", notify_text='Fermez "<&>"')
    )
    package = Package.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/packages/{package.package_id}/"
    assert (package.action, package.path, package.fragment_count) == ("STORE", r"C:\Program Files\PuTTY", 2)
    assert package.notify_text == 'Fermez "<&>"'
    assert list((home / "packages" / "staging").iterdir()) == []
    assert AuditEntry.objects.filter(action="package.build", target="putty").exists()
    html = get(admin_console, response["Location"]).content.decode()
    assert "Fermez &quot;&lt;&amp;&gt;&quot;" in html
    assert "Activate" in html and "Not activated" in html


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"file": SimpleUploadedFile("x.zip", b"not an archive")}, "zip or tar.gz"),
        ({"file": SimpleUploadedFile("x.zip", zip_file(("../evil.exe", b"MZ")))}, "leaves the archive root"),
        ({"priority": "11"}, "priority"),
        ({"fragments": "0"}, "at least 1"),
        ({"fragments": "many"}, "whole number"),
        ({"fragment_mode": "size", "fragment_size": "0"}, "at least 1 byte"),
        ({"path": "C:\\..\\Windows"}, ".."),
    ],
)
def test_bad_build_input_shows_the_form_again_with_the_message_and_keeps_nothing(
    admin_console: Client, home: Path, fields: dict[str, Any], message: str
) -> None:
    response = post(admin_console, "/packages/build/", build_form(**fields))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error"' in html and message in html
    assert 'value="putty"' in html  # what was typed stays
    assert Package.objects.count() == 0
    assert (
        [path for path in (home / "packages").rglob("*") if path.is_file()] == []
        if (home / "packages").exists()
        else True
    )


def test_a_read_only_user_sees_packages_but_cannot_build_or_change_them(reader_console: Client) -> None:
    activation = activated()
    pid = activation.package.package_id
    assert get(reader_console, "/packages/").status_code == 200
    html = get(reader_console, f"/packages/{pid}/").content.decode()
    assert "Activate</button>" not in html and "Delete" not in html
    assert get(reader_console, "/packages/new/").status_code == 403
    assert post(reader_console, "/packages/build/", build_form()).status_code == 403
    for url in (f"/packages/{pid}/activate/", f"/packages/{pid}/delete/", f"/packages/{pid}/validate/"):
        assert post(reader_console, url, {"which": "all"}).status_code == 403
    assert Package.objects.count() == 1


# ---------------------------------------------------------------- activate, deactivate, delete


def test_activation_warns_about_localhost_and_ports(admin_console: Client) -> None:
    package = launch_package()
    response = post(
        admin_console,
        f"/packages/{package.package_id}/activate/",
        {
            "info_location": "localhost:4343/download",
            "fragment_location": "localhost/download",
            "check": "off",
        },
    )
    assert response.status_code == 302
    html = get(admin_console, response["Location"]).content.decode()
    assert "localhost" in html and "port 4343" in html
    assert Activation.objects.filter(package=package).count() == 1


def test_a_failed_check_lists_each_file_that_did_not_answer_and_activates_nothing(
    admin_console: Client,
) -> None:
    package = launch_package()
    pid = package.package_id
    response = post(
        admin_console,
        f"/packages/{pid}/activate/",
        {"info_location": "127.0.0.1:1/download", "fragment_location": "127.0.0.1:1/download", "check": "on"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert f"https://127.0.0.1:1/download/{pid}/info" in html
    assert f"http://127.0.0.1:1/download/{pid}/{pid}-1" in html
    assert 'value="127.0.0.1:1/download"' in html
    assert not Activation.objects.exists()


def test_deactivate_and_delete_ask_first_and_work_without_script(admin_console: Client, home: Path) -> None:
    activation = activated()
    pid = activation.package.package_id
    assign(activation, [make_computer("pc").pk])
    confirm = get(admin_console, f"/packages/{pid}/activations/{activation.pk}/deactivate/")
    assert confirm.status_code == 200 and "1 assignment is cancelled" in confirm.content.decode()
    assert Activation.objects.count() == 1  # a GET changes nothing
    assert (
        post(admin_console, f"/packages/{pid}/activations/{activation.pk}/deactivate/", {}).status_code == 302
    )
    assert (Activation.objects.count(), Assignment.objects.count()) == (0, 0)
    assert (home / "packages" / "download" / str(pid) / "info").exists()

    assert "cannot be undone" in get(admin_console, f"/packages/{pid}/delete/").content.decode()
    assert post(admin_console, f"/packages/{pid}/delete/", {})["Location"] == "/packages/"
    assert not Package.objects.exists()
    assert not (home / "packages" / "download" / str(pid)).exists()


def test_an_unknown_package_or_activation_is_a_404(admin_console: Client) -> None:
    assert get(admin_console, "/packages/4242/").status_code == 404
    pid = launch_package().package_id
    assert get(admin_console, f"/packages/{pid}/activations/77/deactivate/").status_code == 404
    assert get(admin_console, f"/packages/{pid}/statistics/", activation="77").status_code == 404
    assert get(admin_console, f"/packages/{pid}/statistics/", activation="x").status_code == 400


# ---------------------------------------------------------------- assign


def test_the_computer_page_has_a_deploy_box_that_assigns_with_its_options(
    admin_console: Client, fleet: dict[str, Computer]
) -> None:
    activation = activated()
    computer = fleet["paris-01"]
    html = get(admin_console, f"/computers/{computer.pk}/").content.decode()
    assert 'id="deploy"' in html and f'<option value="{activation.pk}">tool' in html
    response = post(
        admin_console,
        "/packages/assign/",
        {
            "activation": activation.pk,
            "computer": computer.pk,
            "force": "on",
            "schedule": "2026-12-24T18:30",
            "post_command": "command",
            "post_command_text": "shutdown -r +5",
            "next": f"/computers/{computer.pk}/",
        },
    )
    assert response["Location"] == f"/computers/{computer.pk}/"
    made = Assignment.objects.get()
    assert (made.computer_id, made.force, made.schedule, made.post_command) == (
        computer.pk,
        True,
        "2026/12/24 18:30",
        "shutdown -r +5",
    )
    assert "WAITING NOTIFICATION" in get(admin_console, f"/computers/{computer.pk}/").content.decode()


def test_the_search_results_deploy_to_every_result_not_only_the_page(
    admin_console: Client, fleet: dict[str, Computer]
) -> None:
    activation = activated()
    criteria = {"field": "tag", "op": "EQUAL", "value": "PARIS", "value2": ""}
    html = get(admin_console, "/search/", **criteria).content.decode()
    assert "mass-deploy" in html and 'formaction="/packages/assign/"' in html
    post(admin_console, "/packages/assign/", {**criteria, "scope": "all", "activation": activation.pk})
    assigned = set(Assignment.objects.values_list("computer_id", flat=True))
    assert assigned == {fleet["paris-01"].pk, fleet["paris-02"].pk}


def test_the_search_results_deploy_to_the_ticked_computers_of_the_search_only(
    admin_console: Client, fleet: dict[str, Computer]
) -> None:
    activation = activated()
    criteria = {"field": "tag", "op": "EQUAL", "value": "PARIS", "value2": ""}
    ticked = [fleet["paris-02"].pk, fleet["lyon-01"].pk]  # LYON is not a result: ignored
    post(
        admin_console,
        "/packages/assign/",
        {**criteria, "scope": "selected", "ids": ticked, "activation": activation.pk},
    )
    assert list(Assignment.objects.values_list("computer_id", flat=True)) == [fleet["paris-02"].pk]
    response = post(
        admin_console, "/packages/assign/", {**criteria, "scope": "selected", "activation": activation.pk}
    )
    assert response.status_code == 302  # nothing ticked: a message, nothing assigned
    assert Assignment.objects.count() == 1


def test_bad_assignment_options_are_a_message_and_assign_nothing(
    admin_console: Client, fleet: dict[str, Computer]
) -> None:
    activation = activated()
    base = {"activation": activation.pk, "computer": fleet["paris-01"].pk, "next": "/packages/"}
    for bad in (
        {"schedule": "tomorrow"},
        {"post_command": "format c:"},
        {"activation": "999"},
        {"computer": "0"},
    ):
        response = post(admin_console, "/packages/assign/", {**base, **bad})
        assert response.status_code == 302
        follow = get(admin_console, "/packages/").content.decode()
        assert 'class="message error"' in follow
    assert not Assignment.objects.exists()


def test_a_package_is_assigned_to_a_static_group_from_its_page(
    admin_console: Client, fleet: dict[str, Computer]
) -> None:
    activation = activated()
    group = create_static_group("lab", visible=True)
    add_to_group(group, [fleet["lyon-01"].pk])
    pid = activation.package.package_id
    post(admin_console, f"/packages/{pid}/assign-group/", {"activation": activation.pk, "group": "lab"})
    assert list(Assignment.objects.values_list("computer_id", flat=True)) == [fleet["lyon-01"].pk]
    assert GroupAssignment.objects.filter(group=group).exists()
    assert "stop for later members" in get(admin_console, f"/packages/{pid}/").content.decode()
    post(admin_console, f"/packages/{pid}/unassign-group/", {"group": str(group.pk)})
    assert not GroupAssignment.objects.exists()


# ---------------------------------------------------------------- statistics


def test_statistics_chart_the_statuses_list_the_computers_and_refresh_while_running(
    admin_console: Client, fleet: dict[str, Computer]
) -> None:
    activation = activated()
    pid = activation.package.package_id
    assign(activation, [computer.pk for computer in fleet.values()])
    Assignment.objects.filter(computer=fleet["paris-01"]).update(status="SUCCESS")
    Assignment.objects.filter(computer=fleet["paris-02"]).update(status="NOTIFIED")
    page = get(admin_console, f"/packages/{pid}/statistics/", activation=str(activation.pk))
    html = page.content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html
    assert "status=WAITING+NOTIFICATION" in html
    assert '<meta http-equiv="refresh"' in html
    assert "paris-01" in html and "lyon-01" in html
    only = get(admin_console, f"/packages/{pid}/statistics/", status="SUCCESS").content.decode()
    assert "paris-01" in only and "lyon-01" not in only
    # Each category's count links to its computers (Not notified, Notified, Success, Errors).
    assert f'href="?activation={activation.pk}&amp;status=waiting#computers"' in html
    assert '<span class="stat" data-count="waiting">1</span>' in html
    waiting = get(admin_console, f"/packages/{pid}/statistics/", status="waiting").content.decode()
    assert "lyon-01" in waiting and "paris-01" not in waiting

    post(admin_console, f"/packages/{pid}/validate/", {"which": "all"})
    assert list(Assignment.objects.values_list("status", flat=True)) == ["NOTIFIED"]
    Assignment.objects.update(status="ERR_BAD_DIGEST")
    assert (
        '<meta http-equiv="refresh"'
        not in get(admin_console, f"/packages/{pid}/statistics/").content.decode()
    )


def test_a_tag_restricted_user_counts_only_its_computers(
    reader_console: Client, fleet: dict[str, Computer]
) -> None:
    activation = activated()
    assign(activation, [computer.pk for computer in fleet.values()])
    html = get(reader_console, f"/packages/{activation.package.package_id}/statistics/").content.decode()
    assert '<span class="stat" data-count="total">2</span>' in html
    assert "lyon-01" not in html


def test_an_upload_sent_by_the_progress_script_gets_the_package_page_to_open(admin_console: Client) -> None:
    response = admin_console.post(
        "/packages/build/", build_form(), secure=True, headers={"X-Requested-With": "XMLHttpRequest"}
    )
    package = Package.objects.get()
    assert response.status_code == 200
    assert response.json() == {"location": f"/packages/{package.package_id}/"}
    # The message waits for that page.
    assert "2 fragments" in get(admin_console, f"/packages/{package.package_id}/").content.decode()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fr", ["Paquets", "Construire un paquet", "Paquets activés"]),
        ("es", ["Paquetes", "Construir un paquete"]),
    ],
)
def test_the_package_pages_speak_french_and_spanish(
    admin_console: Client, administrator: Any, language: str, words: list[str]
) -> None:
    administrator.profile.language = language
    administrator.profile.save()
    html = get(admin_console, "/packages/").content.decode()
    for word in words:
        assert word in html
    build = get(admin_console, "/packages/new/").content.decode()
    assert {"fr": "Taille des fragments", "es": "Tamaño de los fragmentos"}[language] in build


def test_the_package_list_costs_the_same_queries_whatever_the_number_of_activations(
    admin_console: Client, django_assert_max_num_queries: Any, fleet: dict[str, Computer]
) -> None:
    first = activated("first")
    assign(first, [computer.pk for computer in fleet.values()])
    get(admin_console, "/packages/")  # warm the session and the profile
    with django_assert_max_num_queries(12) as one:
        get(admin_console, "/packages/")
    for number in range(4):
        more = activated(f"more-{number}")
        assign(more, [fleet["paris-01"].pk])
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = get(admin_console, "/packages/").content.decode()
    assert html.count("/statistics/?activation=") == 5


HOSTILE = '<script>alert("x")</script>&amp;'


def test_hostile_package_names_and_texts_stay_inert_everywhere(
    admin_console: Client, fleet: dict[str, Computer]
) -> None:
    request = PackageRequest(
        name=HOSTILE, os="linux", action="EXECUTE", command=HOSTILE, notify_user=True, notify_text=HOSTILE
    )
    package = build_package(request, None)
    activation = activate(
        package, "ocs.example.org/download", "ocs.example.org/download", check=False
    ).activation
    computer = fleet["paris-01"]
    assign(activation, [computer.pk])
    Assignment.objects.update(status=HOSTILE[:60])
    pages = [
        "/packages/",
        f"/packages/{package.package_id}/",
        f"/packages/{package.package_id}/statistics/",
        f"/packages/{package.package_id}/delete/",
        f"/computers/{computer.pk}/",
        "/computers/",
    ]
    for url in pages:
        html = get(admin_console, url).content.decode()
        assert "<script>alert" not in html, url
        assert "&lt;script&gt;alert" in html, url


def test_the_pages_say_when_deployment_is_switched_off(admin_console: Client) -> None:
    from ocelot.inventory.setting_values import set_global

    pid = launch_package().package_id
    assert "deployment-off" in get(admin_console, "/packages/").content.decode()  # OCS's default: off
    assert (
        "/configuration/options/#option-DOWNLOAD" in get(admin_console, f"/packages/{pid}/").content.decode()
    )
    set_global("DOWNLOAD", 1)
    assert "deployment-off" not in get(admin_console, "/packages/").content.decode()
    assert "deployment-off" not in get(admin_console, f"/packages/{pid}/").content.decode()
