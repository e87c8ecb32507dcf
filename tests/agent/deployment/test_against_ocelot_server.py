"""Our agent deploys packages from our ``ocelot server``, end to end (issue 5 "What must be true").

The packages are built, activated and assigned through the administrator's doors
(``ocelot package build|activate|assign``, ``ocelot settings set``); the agent runs as
``python -m ocelot.agent`` with ``--ca`` pointing at the published ``cacert.pem``, so it
verifies the info files' TLS and, through the ``package-signing.pem`` published beside
it, their Ed25519 signatures. The statuses are read from the server's database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ocelot.deployment.models import Assignment
from ocelot.inventory.models import Computer
from tests.communication.test_real_agent import device_id_in
from tests.deployment.archives import tar_gz
from tests.deployment.test_real_agent_deployment import Deployment
from tests.server_process import OcelotServer

pytestmark = [pytest.mark.server]


def run_our_agent(server: OcelotServer, basevardir: Path, log: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ocelot.agent",
            "--server",
            server.agent_url,
            "--basevardir",
            str(basevardir),
            "--ca",
            str(server.cacert),
            "--nosoft",
            "--info",
            "--logfile",
            str(log),
        ],
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, (
        f"{result.stderr.decode(errors='replace')}\n{log.read_text(errors='replace')}"
    )


@pytest.mark.django_db(transaction=True)
def test_our_agent_deploys_launch_execute_store_and_five_fragments_and_refuses_a_tampered_one(
    ocelot_server: OcelotServer, tmp_path: Path
) -> None:
    scenario = Deployment(ocelot_server, tmp_path)
    for name, value in (
        ("DOWNLOAD", "1"),
        ("DOWNLOAD_FRAG_LATENCY", "0"),
        ("DOWNLOAD_CYCLE_LATENCY", "0"),
        ("DOWNLOAD_PERIOD_LATENCY", "0"),
        ("DOWNLOAD_PERIOD_LENGTH", "10"),
    ):
        scenario.ocelot("settings", "set", name, value)
    assert (ocelot_server.cacert.parent / "package-signing.pem").exists()
    markers = tmp_path / "markers"
    markers.mkdir()
    store_dir = tmp_path / "stored" / "new"
    launch = scenario.build(
        "launch-exit-3",
        *("--action", "LAUNCH", "--command", "run.sh", "--priority", "0"),
        archive=tar_gz(("run.sh", f"#!/bin/sh\ntouch {markers / 'launch'}\nexit 3\n".encode())),
    )
    command = scenario.build(
        "command", "--action", "EXECUTE", "--command", f"touch {markers / 'command'}", "--priority", "5"
    )
    stored = scenario.build(
        "store",
        *("--action", "STORE", "--path", str(store_dir), "--priority", "5"),
        archive=tar_gz(("doc/readme.txt", b"read me\n")),
    )
    fragmented = scenario.build(
        "five-fragments",
        *("--action", "EXECUTE", "--command", "sh job.sh", "--priority", "5", "--fragments", "5"),
        archive=tar_gz(
            ("job.sh", f"touch {markers / 'fragmented'}\n".encode()), ("blob", os.urandom(60_000))
        ),
    )
    tampered = scenario.build(
        "tampered",
        *("--action", "EXECUTE", "--command", "sh job.sh", "--priority", "5", "--fragments", "2"),
        archive=tar_gz(("job.sh", f"touch {markers / 'tampered'}\n".encode()), ("blob", os.urandom(20_000))),
    )
    forged = scenario.build(
        "forged", "--action", "EXECUTE", "--command", f"touch {markers / 'forged'}", "--priority", "5"
    )
    packages = [launch, command, stored, fragmented, tampered, forged]

    run_our_agent(ocelot_server, scenario.basevardir, tmp_path / "run-1.log")  # the computer exists now
    computer_id = Computer.objects.get(device_id=device_id_in(scenario.basevardir)).pk
    for package_id in packages:
        assert scenario.activate(package_id)["checked"] is True
        scenario.ocelot("package", "assign", str(package_id), "--computer", str(computer_id), "--json")
    fragment = ocelot_server.home / "packages" / "download" / str(tampered) / f"{tampered}-2"
    data = bytearray(fragment.read_bytes())
    data[-100] ^= 0xFF
    fragment.write_bytes(bytes(data))
    # Someone with write access to the package store changes a signed info file's command.
    info = ocelot_server.home / "packages" / "download" / str(forged) / "info"
    info.write_bytes(info.read_bytes().replace(b"touch ", b"touch /tmp/ ", 1))

    run_our_agent(ocelot_server, scenario.basevardir, tmp_path / "run-2.log")

    statuses = dict(
        Assignment.objects.filter(package__package_id__in=packages).values_list(
            "package__package_id", "status"
        )
    )
    assert statuses == {
        launch: "ERR_EXIT_CODE_3",  # the seeds' status table: exit n is ERR_EXIT_CODE_n
        command: "SUCCESS",
        stored: "SUCCESS",
        fragmented: "SUCCESS",
        tampered: "ERR_BAD_DIGEST",  # its fragment no longer matches the signed SHA-256
        forged: "ERR_BAD_SIGNATURE",  # the info file no longer matches its signature
    }
    assert (
        (markers / "launch").exists() and (markers / "command").exists() and (markers / "fragmented").exists()
    )
    assert not (markers / "tampered").exists() and not (markers / "forged").exists()
    assert (store_dir / "doc" / "readme.txt").read_bytes() == b"read me\n"
    results_at = dict(
        Assignment.objects.filter(package__package_id__in=packages).values_list(
            "package__package_id", "result_at"
        )
    )
    # Priority 0 went first and alone (the forged info file was refused before any download).
    downloaded = [launch, command, stored, fragmented, tampered]
    assert all(results_at[launch] <= results_at[other] for other in downloaded), results_at
