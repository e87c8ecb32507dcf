"""``ocelot package sync TARGET``: copy fragments to a site, check them there, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ocelot.cli.main import main
from ocelot.deployment.activation import activate
from ocelot.deployment.storage import default_store
from tests.deployment.web import build_launch, static_server, use_home

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(settings: Any, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = Path(str(tmp_path_factory.getbasetemp())) / "sync-command-pki"
    return use_home(settings, tmp_path / "home", cache)


def test_sync_copies_a_package_to_the_site_and_checks_it_there(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = build_launch()
    site = tmp_path / "site"
    (site / "download").mkdir(parents=True)
    with static_server(default_store().root, tls=True) as https, static_server(site) as http:
        activate(package, f"{https}/download", f"{http}/download", check=False)
        sync = ["package", "sync", str(site / "download"), "--package", "launch"]
        code = main([*sync, "--location", f"{http}/download", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    record = json.loads(captured.out)
    assert record["packages"] == [package.package_id]
    assert (record["copied"], record["checked"], record["failures"]) == (3, True, [])
    assert sorted(path.name for path in (site / "download" / str(package.package_id)).iterdir()) == [
        f"{package.package_id}-{n}" for n in (1, 2, 3)
    ]


def test_a_site_that_does_not_serve_the_copy_exits_1_naming_each_file(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = build_launch()
    (tmp_path / "copy").mkdir()
    (tmp_path / "empty-site").mkdir()
    with (
        static_server(default_store().root, tls=True) as https,
        static_server(tmp_path / "empty-site") as http,
    ):
        activate(package, f"{https}/download", f"{http}/download", check=False)
        code = main(["package", "sync", str(tmp_path / "copy"), "--location", f"{http}/download"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.count("HTTP 404") == 3
    assert "1 packages to" in captured.out and "failed" in captured.out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["package", "sync", "/nonexistent/site"], "no such directory"),
        (["package", "sync", "/tmp", "--package", "no-such-package"], "no-such-package"),
        (["package", "sync", "/tmp", "--package", "launch", "--activation", "999"], "no activation 999"),
    ],
)
def test_bad_input_is_one_line_and_copies_nothing(
    home: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    package = build_launch()
    activate(package, "ocs.example.org/download", "site-a.example.org/download", check=False)
    code = main(argv)
    err = capsys.readouterr().err
    assert code in (1, 2) and message in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert not Path("/tmp", str(package.package_id)).exists()
