"""``ocelot import``: the seed's Ocsinventory_local.pl report, through the endpoint's code path."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from ocelot.cli.main import main
from ocelot.inventory.models import Computer
from tests.inventory.payloads import UNIX_SAMPLE

pytestmark = pytest.mark.django_db


def _write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


def test_a_plain_ocs_file_from_the_unix_agent_imports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "vm-2026-11-21-17-46-56.ocs", UNIX_SAMPLE)

    assert main(["import", str(path)]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out == [
        "OK for vm-2026-11-21-17-46-56.ocs",
        "-----",
        "Successfully inventoried : 1",
        "Errors : 0",
    ]
    computer = Computer.objects.get()
    assert computer.imported
    assert computer.software.count() == UNIX_SAMPLE.count(b"<SOFTWARES>")


def test_a_directory_imports_every_ocs_and_xml_file_and_reports_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, "a.ocs", zlib.compress(UNIX_SAMPLE))  # the Windows agent's /LOCAL form
    _write(tmp_path, "b.xml", UNIX_SAMPLE.replace(b"vm-2026-11-21-17-46-56", b"other-2026-11-21-17-46-56"))
    _write(tmp_path, "c.ocs", b"not an inventory")
    _write(tmp_path, "notes.txt", b"ignored")

    assert main(["import", str(tmp_path)]) == 1

    out = capsys.readouterr().out.splitlines()
    assert out[0] == "OK for a.ocs"
    assert out[1] == "OK for b.xml"
    assert out[2].startswith("ERROR for c.ocs: ")
    assert out[-2:] == ["Successfully inventoried : 2", "Errors : 1"]
    assert Computer.objects.count() == 2


def test_a_prolog_or_a_missing_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prolog = b"<REQUEST><DEVICEID>pc-2026-01-01-00-00-00</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>"
    path = _write(tmp_path, "p.xml", prolog)
    assert main(["import", str(path), str(tmp_path / "missing.ocs")]) == 1
    out = capsys.readouterr().out
    assert "ERROR for p.xml: the file is not an inventory" in out
    assert "ERROR for missing.ocs" in out
    assert not Computer.objects.exists()
