"""Activation: locations as OCS stores them, the seeds' warnings, the check over real HTTP(S)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ocelot.deployment.activation import (
    Location,
    activate,
    activations,
    deactivate,
    default_locations,
    find_activation,
    location_warnings,
    parse_location,
)
from ocelot.deployment.assignment import assign
from ocelot.deployment.catalogue import delete_package
from ocelot.deployment.errors import ActivationCheckError, ActivationError
from ocelot.deployment.models import Activation, Assignment, Package
from ocelot.deployment.storage import default_store
from ocelot.inventory.models import Computer
from tests.deployment.web import build_launch, static_server, use_home

pytestmark = pytest.mark.django_db
SITE = "ocs.example.org/download"


@pytest.fixture
def home(settings: Any, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = Path(str(tmp_path_factory.getbasetemp())) / "activation-pki"
    return use_home(settings, tmp_path / "home", cache)


@pytest.fixture
def package(home: Path) -> Package:
    return build_launch()


# ---------------------------------------------------------------- locations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("srv.example.org/download", Location("srv.example.org", None, "/download")),
        ("192.168.1.1:4343/download", Location("192.168.1.1", 4343, "/download")),
        ("https://srv/download/", Location("srv", None, "/download")),
        ("srv", Location("srv", None, "")),
        ("[2001:db8::1]:8443/pkgs/site-a", Location("[2001:db8::1]", 8443, "/pkgs/site-a")),
    ],
)
def test_a_location_is_host_port_and_path_as_ocs_stores_it(text: str, expected: Location) -> None:
    assert parse_location(text, scheme="https") == expected


def test_the_seeds_example_with_non_standard_ports_reads_back_unchanged() -> None:
    info = parse_location("192.168.1.1:4343/download", scheme="https")
    fragments = parse_location("192.168.1.1:8080/download", scheme="http")
    assert (str(info), str(fragments)) == ("192.168.1.1:4343/download", "192.168.1.1:8080/download")


@pytest.mark.parametrize(
    "text",
    ["", "http://srv/download", "srv:0/x", "srv:70000/x", "srv/../etc", "srv/a b", "user@srv/x", "srv/x?y=1"],
)
def test_a_location_that_agents_could_not_use_is_refused(text: str) -> None:
    with pytest.raises(ActivationError):
        parse_location(text, scheme="https")


def test_localhost_and_non_standard_ports_get_the_seeds_warnings() -> None:
    info = parse_location("localhost:4343/download", scheme="https")
    fragments = parse_location("127.0.0.1/download", scheme="http")
    warnings = location_warnings(info, fragments)
    assert len(warnings) == 3
    assert "localhost" in warnings[0] and "4343" in warnings[1] and "127.0.0.1" in warnings[2]
    standard = location_warnings(
        parse_location("ocs.example.org/download", scheme="https"),
        parse_location("ocs.example.org:80/download", scheme="http"),
    )
    assert standard == []


def test_the_default_locations_are_this_servers_listeners(settings: Any) -> None:
    import dataclasses

    config = settings.CONFIG
    settings.CONFIG = dataclasses.replace(
        config, http_bind="10.0.0.5:80", https_bind="10.0.0.5:8443", fragments_bind=""
    )
    assert default_locations() == ("10.0.0.5:8443/download", "10.0.0.5/download")


def test_fragments_default_to_the_fragment_listener_when_it_is_on(settings: Any) -> None:
    import dataclasses

    config = settings.CONFIG
    settings.CONFIG = dataclasses.replace(
        config, http_bind="10.0.0.5:80", https_bind="10.0.0.5:8443", fragments_bind="10.0.0.5:8081"
    )
    assert default_locations() == ("10.0.0.5:8443/download", "10.0.0.5:8081/download")


def test_fragments_over_https_default_to_the_https_listener(settings: Any) -> None:
    import dataclasses

    config = settings.CONFIG
    settings.CONFIG = dataclasses.replace(
        config, http_bind="10.0.0.5:80", https_bind="10.0.0.5:8443", fragments_bind="10.0.0.5:8081"
    )
    assert default_locations("https") == ("10.0.0.5:8443/download", "10.0.0.5:8443/download")


# ---------------------------------------------------------------- the check


def test_activation_checks_the_info_file_over_verified_https_and_every_fragment(package: Package) -> None:
    root = default_store().root
    with static_server(root, tls=True) as https, static_server(root) as http:
        result = activate(package, f"{https}/download", f"{http}/download")
    assert result.activation.info_location == f"{https}/download"
    assert result.activation.fragment_location == f"{http}/download"
    assert any("127.0.0.1" in warning for warning in result.warnings)
    assert activations(package) == [result.activation]


def test_a_tampered_or_missing_fragment_is_named_and_nothing_is_activated(package: Package) -> None:
    directory = default_store().package_dir(package.package_id)
    pid = package.package_id
    (directory / f"{pid}-2").write_bytes(b"tampered")
    (directory / f"{pid}-3").unlink()
    root = default_store().root
    with (
        static_server(root, tls=True) as https,
        static_server(root) as http,
        pytest.raises(ActivationCheckError) as caught,
    ):
        activate(package, f"{https}/download", f"{http}/download")
    failures = caught.value.failures
    assert len(failures) == 2
    assert failures[0].endswith(f"/{pid}/{pid}-2: different bytes (size or SHA-256)")
    assert failures[1].endswith(f"/{pid}/{pid}-3: HTTP 404")
    assert not Activation.objects.exists()


def test_an_info_file_over_plain_http_or_an_untrusted_certificate_fails_the_check(
    package: Package, tmp_path: Path
) -> None:
    root = default_store().root
    with static_server(root) as http:
        failures = _failures(package, f"{http}/download", f"{http}/download")
    assert len(failures) == 1 and "/info: TLS error" in failures[0]
    # Another CA's server: the certificate is not trusted.
    (default_store().pki_dir / "ca.pem").unlink()
    with static_server(root, tls=True) as https, static_server(root) as http:
        failures = _failures(package, f"{https}/download", f"{http}/download")
    assert len(failures) == 1 and "certificate not trusted" in failures[0]


def test_nothing_listening_is_said_once_not_for_every_fragment(package: Package) -> None:
    failures = _failures(package, "127.0.0.1:9/download", "127.0.0.1:9/download")
    assert len(failures) == 3
    assert "/info:" in failures[0] and "-1:" in failures[1] and failures[2] == "2 more fragments not tried"


def _failures(package: Package, info: str, fragments: str) -> list[str]:
    with pytest.raises(ActivationCheckError) as caught:
        activate(package, info, fragments)
    return caught.value.failures


# ---------------------------------------------------------------- several, deactivate, delete


def test_a_package_has_one_activation_per_site_and_the_same_one_twice_is_refused(package: Package) -> None:
    central = activate(package, "ocs.example.org/download", "site-a.example.org/download", check=False)
    activate(package, "ocs.example.org/download", "site-b.example.org/download", check=False)
    with pytest.raises(ActivationError, match="already activated"):
        activate(package, "ocs.example.org/download", "site-a.example.org/download", check=False)
    with pytest.raises(ActivationError, match="several activations"):
        find_activation(package)
    assert find_activation(package, central.activation.pk) == central.activation


def test_deactivating_keeps_the_files_and_removes_the_assignments(package: Package) -> None:
    activation = activate(package, "ocs.example.org/download", SITE, check=False).activation
    computer = Computer.objects.create(device_id="pc-1")
    assign(activation, [computer.pk])

    assert deactivate(activation) == 1

    assert not Assignment.objects.exists() and not Activation.objects.exists()
    assert Package.objects.filter(pk=package.pk).exists()
    assert (default_store().package_dir(package.package_id) / "info").exists()


def test_deleting_the_package_removes_activations_assignments_and_files(package: Package) -> None:
    activation = activate(package, "ocs.example.org/download", SITE, check=False).activation
    assign(activation, [Computer.objects.create(device_id="pc-1").pk])

    delete_package(package)

    assert not Assignment.objects.exists() and not Activation.objects.exists()
    assert not default_store().package_dir(package.package_id).exists()


def test_a_package_whose_files_are_gone_cannot_be_checked(package: Package) -> None:
    from ocelot.deployment.errors import PackageStorageError

    (default_store().package_dir(package.package_id) / "info").unlink()
    with pytest.raises(PackageStorageError, match="info file of package"):
        activate(package, SITE, SITE)
    assert not Activation.objects.exists()
