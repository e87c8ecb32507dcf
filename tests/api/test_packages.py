"""The packages API: build from a multipart upload streamed to disk, activate, assign (to ids,
to every result of a search, to a group), statistics, validate, deactivate and delete; with
the same rules as the CLI and the console, and a clear JSON 4xx for every bad input."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import RequestFactory

from ocelot.accounts.models import AuditEntry
from ocelot.deployment.groups import add_to_group, create_static_group
from ocelot.deployment.models import Assignment, Package
from ocelot.deployment.uploads import StagedUpload, stream_uploads_to_disk
from ocelot.inventory.models import Computer
from tests.api.conftest import Caller
from tests.deployment.archives import tar_gz, zip_file
from tests.deployment.test_build import mounted_tmpfs

pytestmark = pytest.mark.django_db

SCRIPT = b"#!/bin/sh\nexit 3\n"
PARIS = -1  # stands for the PARIS computer in parameters (its id is known only in the test)
ARCHIVE = tar_gz(("run.sh", SCRIPT), ("data.bin", bytes(range(256)) * 100))


@pytest.fixture(autouse=True)
def home(tmp_path: Path, settings: Any) -> Path:
    """A home of its own, so package files never leak between tests."""
    settings.CONFIG = dataclasses.replace(settings.CONFIG, home=tmp_path / "home")
    return tmp_path / "home"


def published_files(home: Path) -> list[Path]:
    root = home / "packages"
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def upload(
    caller: Caller, archive: bytes | None = ARCHIVE, filename: str = "pkg.tar.gz", **fields: Any
) -> HttpResponse:
    data: dict[str, Any] = {
        "name": "tool",
        "os": "linux",
        "action": "LAUNCH",
        "command": "run.sh -q",
        **fields,
    }
    if archive is not None:
        data["file"] = SimpleUploadedFile(filename, archive)
    return caller.client.post(
        "/api/v1/packages", data, secure=True, headers={"Authorization": f"Bearer {caller.token}"}
    )


def built(caller: Caller, **fields: Any) -> dict[str, Any]:
    response = upload(caller, **fields)
    assert response.status_code == 201, response.content
    return dict(response.json())


def test_an_administrator_builds_a_package_from_a_multipart_upload(admin: Caller, home: Path) -> None:
    package = built(
        admin, fragments="3", priority="7", notify_text='Close "<&>" first', notify_can_delay="true"
    )
    assert (package["name"], package["action"], package["priority"]) == ("tool", "LAUNCH", 7)
    assert (package["fragment_count"], package["size"], package["archive_format"]) == (
        3,
        len(ARCHIVE),
        "tar.gz",
    )
    assert package["notify_user"] is True and package["notify_text"] == 'Close "<&>" first'
    assert set(package["download_estimates"]) == {str(p) for p in range(11)}
    pid = package["id"]
    names = {path.name for path in published_files(home)}
    assert {"info", f"{pid}-1", f"{pid}-2", f"{pid}-3"} <= names
    # The upload went to a temporary file in staging/, removed with the request.
    assert list((home / "packages" / "staging").iterdir()) == []
    assert admin.get(f"/api/v1/packages/{pid}").json()["md5"] == package["md5"]
    listed = admin.get("/api/v1/packages", {"limit": 10}).json()
    assert (listed["count"], [item["id"] for item in listed["items"]]) == (1, [pid])
    assert AuditEntry.objects.filter(action="package.build", target="tool").exists()


def test_every_uploaded_file_is_streamed_to_a_file_in_the_staging_directory(home: Path) -> None:
    body = {"file": SimpleUploadedFile("small.zip", b"tiny")}
    request = RequestFactory().post("/api/v1/packages", body)
    stream_uploads_to_disk(request)
    uploaded = request.FILES["file"]
    assert isinstance(uploaded, StagedUpload)  # not the in-memory handler, even for 4 bytes
    assert Path(uploaded.temporary_file_path()).parent == home / "packages" / "staging"
    assert uploaded.read() == b"tiny"


def test_store_and_execute_builds_take_a_path_or_no_archive(admin: Caller) -> None:
    store = built(
        admin,
        name="putty",
        action="STORE",
        command="",
        path="/opt/putty",
        fragment_size="2K",
        archive=zip_file(("putty.exe", os.urandom(5000))),
        os="windows",
    )
    assert (store["path"], store["fragment_count"]) == ("/opt/putty", 3)
    execute = built(admin, name="cmd", action="EXECUTE", command="true", archive=None)
    assert (execute["fragment_count"], execute["size"]) == (0, 0)


@pytest.mark.parametrize(
    ("archive", "fields", "code", "words"),
    [
        (b"just some text", {}, "invalid_archive", "zip or tar.gz"),
        (
            tar_gz(("../evil.sh", SCRIPT), ("run.sh", SCRIPT)),
            {},
            "invalid_archive",
            "leaves the archive root",
        ),
        (tar_gz(("/etc/evil", SCRIPT), ("run.sh", SCRIPT)), {}, "invalid_archive", ""),
        (tar_gz(("other.sh", SCRIPT)), {}, "invalid_archive", "run.sh"),
        (ARCHIVE, {"priority": "11"}, "invalid_package", "priority"),
        (ARCHIVE, {"fragments": "0"}, "invalid_package", "at least 1"),
        (ARCHIVE, {"fragments": "1000000000"}, "invalid_package", "fragments"),
        (ARCHIVE, {"fragment_size": "0"}, "invalid_package", "at least 1 byte"),
        (ARCHIVE, {"fragment_size": "lots"}, "invalid_package", "not a size"),
        (ARCHIVE, {"action": "STORE", "path": "../etc"}, "invalid_package", ".."),
        (None, {}, "invalid_package", "archive"),
        (ARCHIVE, {"os": "amiga"}, "invalid", "os"),
    ],
)
def test_bad_input_is_a_json_400_and_leaves_no_package_and_no_file(
    admin: Caller, home: Path, archive: bytes | None, fields: dict[str, Any], code: str, words: str
) -> None:
    response = upload(admin, archive, **fields)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == code
    assert words.lower() in body["message"].lower()
    assert "Traceback" not in body["message"]
    assert Package.objects.count() == 0
    assert published_files(home) == []


def test_an_unknown_package_is_a_json_404(admin: Caller) -> None:
    for method, path, body in [
        ("get", "/api/v1/packages/123", None),
        ("get", "/api/v1/packages/123/statistics", None),
        ("delete", "/api/v1/packages/123", None),
        ("post", "/api/v1/packages/123/activations", {"check": False}),
        ("post", "/api/v1/packages/123/assignments", {"computers": [1]}),
    ]:
        response = getattr(admin, method)(path, body)
        assert response.status_code == 404, (path, response.content)
        assert response.json() == {"code": "not_found", "message": "no such package"}


def test_a_read_only_user_reads_packages_and_every_write_is_a_403(admin: Caller, reader: Caller) -> None:
    pid = built(admin)["id"]
    assert reader.get("/api/v1/packages").status_code == 200
    assert reader.get(f"/api/v1/packages/{pid}").status_code == 200
    assert upload(reader, name="other").status_code == 403
    for method, path, body in [
        ("delete", f"/api/v1/packages/{pid}", None),
        ("post", f"/api/v1/packages/{pid}/activations", {"check": False}),
        ("post", f"/api/v1/packages/{pid}/assignments", {"computers": [1]}),
        ("post", f"/api/v1/packages/{pid}/unassign", {"all": True}),
        ("post", f"/api/v1/packages/{pid}/validate", {"which": "all"}),
        ("delete", f"/api/v1/packages/{pid}/activations/1", None),
    ]:
        response = getattr(reader, method)(path, body)
        assert response.status_code == 403, (path, response.content)
        assert response.json()["code"] == "forbidden"
    assert Package.objects.count() == 1


def test_an_activation_whose_files_do_not_answer_says_which_and_records_nothing(admin: Caller) -> None:
    pid = built(admin, fragments="2")["id"]
    response = admin.post(
        f"/api/v1/packages/{pid}/activations",
        {"info_location": "127.0.0.1:1/download", "fragment_location": "127.0.0.1:1/download"},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "activation_check_failed"
    assert f"https://127.0.0.1:1/download/{pid}/info" in body["failures"][0]
    assert any(f"/{pid}/{pid}-1" in failure for failure in body["failures"])
    assert admin.get(f"/api/v1/packages/{pid}").json()["activations"] == []


def test_a_bad_location_is_a_400(admin: Caller) -> None:
    pid = built(admin)["id"]
    response = admin.post(
        f"/api/v1/packages/{pid}/activations", {"info_location": "ftp://x/y", "check": False}
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid_activation")


def test_activate_assign_by_ids_search_and_group_then_statistics_validate_and_delete(
    admin: Caller, reader: Caller, fleet: dict[str, Computer], home: Path
) -> None:
    pid = built(admin)["id"]
    activated = admin.post(
        f"/api/v1/packages/{pid}/activations",
        {
            "info_location": "localhost:4343/download",
            "fragment_location": "ocs.example.org/download",
            "check": False,
        },
    )
    assert activated.status_code == 201
    activation = activated.json()
    assert activation["checked"] is False
    assert len(activation["warnings"]) == 2  # localhost, port 4343

    by_id = admin.post(
        f"/api/v1/packages/{pid}/assignments",
        {
            "computers": [fleet["lyon"].pk],
            "force": True,
            "schedule": "2026-12-24T18:30",
            "post_command": "reboot",
        },
    )
    assert by_id.json() == {
        "package": pid,
        "activation": activation["id"],
        "created": 1,
        "restarted": 0,
        "computers": 1,
    }
    assignment = Assignment.objects.get(computer=fleet["lyon"])
    assert (assignment.force, assignment.schedule, assignment.post_command) == (
        True,
        "2026/12/24 18:30",
        "REBOOT",
    )

    # Every result of the search, not a page of it: the two PARIS computers.
    searched = admin.post(
        f"/api/v1/packages/{pid}/assignments",
        {"search": {"field": ["tag"], "op": ["EQUAL"], "value": ["PARIS"]}},
    ).json()
    assert (searched["created"], searched["computers"]) == (2, 2)

    nobody = admin.post(
        f"/api/v1/packages/{pid}/assignments",
        {"search": {"field": ["tag"], "op": ["EQUAL"], "value": ["MARS"]}},
    )
    assert (nobody.status_code, nobody.json()["computers"]) == (200, 0)

    group = create_static_group("lab")
    add_to_group(group, [fleet["lyon"].pk])
    grouped = admin.post(f"/api/v1/packages/{pid}/assignments", {"group": "lab"}).json()
    assert (grouped["created"], grouped["restarted"]) == (0, 1)

    Assignment.objects.filter(computer=fleet["paris"]).update(status="SUCCESS")
    stats = admin.get(f"/api/v1/packages/{pid}/statistics").json()
    assert stats["total"] == 3
    assert stats["categories"] == {"waiting": 2, "notified": 0, "success": 1, "error": 0, "other": 0}
    assert stats["statuses"] == {"SUCCESS": 1, "WAITING NOTIFICATION": 2}
    # The PARIS reader counts and sees only its own computers.
    seen = reader.get(f"/api/v1/packages/{pid}/statistics", {"activation": activation["id"]}).json()
    assert seen["total"] == 2
    assert {c["id"] for c in seen["computers"]} == {fleet["paris"].pk, fleet["unix"].pk}

    assert admin.post(f"/api/v1/packages/{pid}/validate", {"which": "success"}).json()["removed"] == 1
    assert (
        admin.post(f"/api/v1/packages/{pid}/unassign", {"computers": [fleet["unix"].pk]}).json()["removed"]
        == 1
    )
    gone = admin.delete(f"/api/v1/packages/{pid}/activations/{activation['id']}").json()
    assert gone == {"id": activation["id"], "assignments_removed": 1}

    assert admin.delete(f"/api/v1/packages/{pid}").status_code == 204
    assert published_files(home) == []
    assert admin.get(f"/api/v1/packages/{pid}").status_code == 404


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "invalid_assignment"),
        ({"computers": [999999]}, "invalid_assignment"),
        ({"group": "nobody"}, "invalid_assignment"),
        ({"computers": [PARIS], "schedule": "tomorrow"}, "invalid_assignment"),
        ({"computers": [PARIS], "activation": 424242}, "invalid_activation"),
        ({"search": {"field": ["password"], "op": ["EQUAL"], "value": ["x"]}}, "invalid_search"),
        ({"search": {"field": ["name"], "op": [], "value": ["x"]}}, "invalid_search"),
        ({"computers": "all"}, "invalid"),
    ],
)
def test_bad_assignments_are_json_400s_that_assign_nothing(
    admin: Caller, fleet: dict[str, Computer], body: dict[str, Any], code: str
) -> None:
    pid = built(admin)["id"]
    admin.post(f"/api/v1/packages/{pid}/activations", {"check": False})
    if body.get("computers") == [PARIS]:
        body = {**body, "computers": [fleet["paris"].pk]}
    response = admin.post(f"/api/v1/packages/{pid}/assignments", body)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert Assignment.objects.count() == 0


def test_assigning_a_package_that_is_not_activated_says_so(admin: Caller, fleet: dict[str, Computer]) -> None:
    pid = built(admin)["id"]
    response = admin.post(f"/api/v1/packages/{pid}/assignments", {"computers": [fleet["paris"].pk]})
    assert response.status_code == 400
    assert "not activated" in response.json()["message"]


def test_the_statistics_refuse_unknown_parameters_and_activations(admin: Caller) -> None:
    pid = built(admin)["id"]
    assert (
        admin.get(f"/api/v1/packages/{pid}/statistics", {"status": "x"}).json()["code"] == "unknown_parameter"
    )
    assert admin.get(f"/api/v1/packages/{pid}/statistics", {"activation": "9"}).status_code == 404


def test_a_disk_that_fills_during_the_upload_is_a_json_507_and_keeps_nothing(
    admin: Caller, home: Path
) -> None:
    staging = home / "packages" / "staging"
    staging.parent.mkdir(parents=True)
    with mounted_tmpfs(staging, "1m"):
        response = upload(admin, tar_gz(("run.sh", SCRIPT), ("big.bin", os.urandom(3 * 1024 * 1024))))
        assert response.status_code == 507
        assert response.json() == {
            "code": "storage_error",
            "message": "The uploaded archive could not be stored: No space left on device.",
        }
        assert list(staging.iterdir()) == []
    assert Package.objects.count() == 0
