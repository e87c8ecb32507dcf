"""Debian's real ocsinventory-agent 2.10 deploys packages from a real ``ocelot server`` (issue 4).

Everything goes through the doors an administrator uses: ``ocelot settings set`` for the
latencies, ``ocelot package build|activate|assign|stats`` (activation checks the files
over the running server: the info file over HTTPS verified against the server's CA, every
fragment over HTTP). The agent runs with ``--ca`` pointing at the published
``cacert.pem``, so it fetches each info file with certificate and host name verification
on (protocol.md §1.6); its download worker (forked at the end of its run) then fetches
the fragments, runs the packages and reports (§9.2). The statuses the server stores are
compared with what the agent's log says it sent.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocelot.deployment.models import Assignment
from ocelot.inventory.models import Computer
from tests.communication.test_real_agent import AgentRun, device_id_in, run_agent
from tests.deployment.archives import tar_gz
from tests.server_process import OcelotServer, current_test_database_url, run_ocelot

pytestmark = [pytest.mark.real_agent, pytest.mark.server]

WORKER_TIMEOUT = 240.0
# What the Unix agent's worker logs as it posts a result (Download.pm download_message).
_RESULT = re.compile(r"\[download\] Sending message for (\d+), code=(\S+)\.$", re.MULTILINE)


class Deployment:
    """The server's ``ocelot`` command line and one agent, for one scenario."""

    def __init__(self, server: OcelotServer, work: Path, *, ca: Path | None = None) -> None:
        self.server = server
        self.work = work
        self.ca = ca or server.cacert
        self.database = current_test_database_url()
        self.basevardir = work / "agent"
        self.basevardir.mkdir(parents=True)
        self.runs = 0

    def ocelot(self, *args: str) -> Any:
        result = run_ocelot(self.server.home, self.database, *args)
        assert result.returncode == 0, f"ocelot {' '.join(args)}: {result.stdout}{result.stderr}"
        return json.loads(result.stdout) if "--json" in args else result.stdout

    def build(self, name: str, *args: str, archive: bytes | None = None) -> int:
        options = list(args)
        if archive is not None:
            path = self.work / f"{name}.tar.gz"
            path.write_bytes(archive)
            options += ["--file", str(path)]
        return int(self.ocelot("package", "build", "--name", name, "--os", "linux", *options, "--json")["id"])

    def activate(self, package_id: int) -> dict[str, Any]:
        return dict(
            self.ocelot(
                *("package", "activate", str(package_id)),
                *("--info-location", f"127.0.0.1:{self.server.https_port}/download"),
                *("--fragment-location", f"127.0.0.1:{self.server.http_port}/download"),
                "--json",
            )
        )

    def run_agent(self) -> AgentRun:
        self.runs += 1
        run = run_agent(
            self.work / f"run-{self.runs}.log",
            f"--server={self.server.agent_url}",
            f"--basevardir={self.basevardir}",
            f"--ca={self.ca}",
            "--nolocal",
        )
        assert run.returncode == 0 and "INVENTORY" in run.queries(), run.describe()
        return run

    def device_id(self) -> str:
        return device_id_in(self.basevardir)

    def reported(self) -> dict[int, str]:
        """The results the agent's worker posted, from every log of this scenario."""
        found: dict[int, str] = {}
        for log in sorted(self.work.glob("run-*.log")):
            for package_id, code in _RESULT.findall(log.read_text(encoding="utf-8", errors="replace")):
                found[int(package_id)] = code
        return found

    def worker_pids(self) -> list[int]:
        pids = []
        for lock in self.basevardir.glob("*/download/lock"):
            text = lock.read_text().strip()
            if text.isdigit():
                pids.append(int(text))
        return pids

    def stop_worker(self) -> None:
        """The agent's download worker is ours (it forked from our run): never left running."""
        for pid in self.worker_pids():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"ocsinventory-agent" in cmdline:
                os.kill(pid, signal.SIGTERM)

    def wait_for_results(self, package_ids: list[int]) -> dict[int, str]:
        deadline = time.monotonic() + WORKER_TIMEOUT
        pending = {"", Assignment.NOTIFIED}
        while time.monotonic() < deadline:
            statuses = dict(
                Assignment.objects.filter(package__package_id__in=package_ids).values_list(
                    "package__package_id", "status"
                )
            )
            if len(statuses) == len(package_ids) and not pending & set(statuses.values()):
                return statuses
            time.sleep(0.5)
        logs = "\n".join(
            log.read_text(errors="replace")[-3000:] for log in sorted(self.work.glob("run-*.log"))
        )
        raise AssertionError(f"the agent did not report every package in time: {statuses}\n{logs}")


@pytest.fixture
def deployment(ocelot_server: OcelotServer, tmp_path: Path) -> Iterator[Deployment]:
    scenario = Deployment(ocelot_server, tmp_path)
    for name, value in (
        ("DOWNLOAD", "1"),
        ("DOWNLOAD_FRAG_LATENCY", "0"),
        ("DOWNLOAD_CYCLE_LATENCY", "0"),
        ("DOWNLOAD_PERIOD_LATENCY", "1"),
        ("DOWNLOAD_PERIOD_LENGTH", "10"),
    ):
        scenario.ocelot("settings", "set", name, value)
    try:
        yield scenario
    finally:
        scenario.stop_worker()


def _script(marker: Path, status: int = 0) -> bytes:
    return f"#!/bin/sh\necho ran > '{marker}'\nexit {status}\n".encode()


@pytest.mark.django_db(transaction=True)
def test_the_real_agent_deploys_launch_execute_store_and_fragmented_packages_over_verified_https(
    deployment: Deployment, tmp_path: Path
) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    store_dir = tmp_path / "stored" / "new" / "dir"  # does not exist yet
    # A LAUNCH tar.gz whose script exits 3, at priority 0 (first and exclusive, §9.2).
    launch = deployment.build(
        "launch-exit-3",
        *("--action", "LAUNCH", "--command", "run.sh", "--priority", "0"),
        archive=tar_gz(("run.sh", _script(markers / "launch", 3))),
    )
    # An EXECUTE command without archive.
    command = deployment.build(
        "command", "--action", "EXECUTE", "--command", f"touch {markers / 'command'}", "--priority", "5"
    )
    # A STORE package into a directory that does not exist yet.
    stored = deployment.build(
        "store",
        *("--action", "STORE", "--path", str(store_dir), "--priority", "5"),
        archive=tar_gz(("putty.exe", b"MZ" + bytes(1000)), ("doc/readme.txt", b"read me\n")),
    )
    # An EXECUTE package with an archive in 5 fragments.
    fragmented = deployment.build(
        "five-fragments",
        *("--action", "EXECUTE", "--command", "sh job.sh", "--priority", "5", "--fragments", "5"),
        archive=tar_gz(("job.sh", _script(markers / "fragmented")), ("blob.bin", os.urandom(60_000))),
    )
    # A package whose fragment is tampered with after activation: ERR_BAD_DIGEST, nothing runs.
    tampered = deployment.build(
        "tampered",
        *("--action", "EXECUTE", "--command", "sh job.sh", "--priority", "5", "--fragments", "2"),
        archive=tar_gz(("job.sh", _script(markers / "tampered")), ("blob.bin", os.urandom(20_000))),
    )
    packages = [launch, command, stored, fragmented, tampered]

    first = deployment.run_agent()  # the computer exists from its first inventory on
    assert first.reply_to("PROLOG").find("OPTION/PARAM[@TYPE='PACK']") is None
    computer_id = Computer.objects.get(device_id=deployment.device_id()).pk
    for package_id in packages:
        activation = deployment.activate(package_id)
        assert activation["checked"] is True
        deployment.ocelot("package", "assign", str(package_id), "--computer", str(computer_id), "--json")
    fragment = deployment.server.home / "packages" / "download" / str(tampered) / f"{tampered}-2"
    data = bytearray(fragment.read_bytes())
    data[-100] ^= 0xFF
    fragment.write_bytes(bytes(data))

    second = deployment.run_agent()

    # The PROLOG announced the five packages as OCS does (§4.4), each once.
    params = second.reply_to("PROLOG").findall("OPTION/PARAM[@TYPE='PACK']")
    assert sorted(int(param.get("ID", "")) for param in params) == sorted(packages)
    for param in params:
        assert param.get("INFO_LOC") == f"127.0.0.1:{deployment.server.https_port}/download"
        assert param.get("PACK_LOC") == f"127.0.0.1:{deployment.server.http_port}/download"
        assert (param.get("FORCE"), param.get("CERT_FILE")) == ("0", "INSTALL_PATH/cacert.pem")
    statuses = deployment.wait_for_results(packages)

    expected = {
        launch: "SUCCESS_3",  # LAUNCH exit 3 is SUCCESS_3 on Unix (§9.2 step 5)
        command: "SUCCESS",
        stored: "SUCCESS",
        fragmented: "SUCCESS",
        tampered: "ERR_BAD_DIGEST",
    }
    assert statuses == expected
    assert deployment.reported() == expected  # stored verbatim: what the agent posted
    assert (markers / "launch").exists() and (markers / "command").exists()
    assert (markers / "fragmented").exists()
    assert not (markers / "tampered").exists()  # a tampered package never runs
    assert (store_dir / "putty.exe").read_bytes() == b"MZ" + bytes(1000)
    assert (store_dir / "doc" / "readme.txt").read_bytes() == b"read me\n"
    # The info files came over HTTPS (any verification failure is ERR_DOWNLOAD_INFO).
    assert "ERR_DOWNLOAD_INFO" not in statuses.values()
    # Priority 0 went first and alone: its result came before any other package's.
    results_at = dict(
        Assignment.objects.filter(package__package_id__in=packages).values_list(
            "package__package_id", "result_at"
        )
    )
    assert all(results_at[launch] <= results_at[other] for other in packages if other != launch)

    stats = deployment.ocelot("package", "stats", str(fragmented), "--json")
    assert stats["categories"]["success"] == 1
    assert stats["computers"][0]["status"] == "SUCCESS"

    # The next inventory carries the agent's history; a package in it is never sent again.
    deployment.run_agent()
    deployment.ocelot("package", "assign", str(command), "--computer", str(computer_id), "--json")
    again = deployment.run_agent()
    assert again.reply_to("PROLOG").find("OPTION/PARAM[@TYPE='PACK']") is None
    assert Assignment.objects.get(package__package_id=command).status == "SUCCESS_ALREADY_IN_HISTORY"


@pytest.mark.django_db(transaction=True)
def test_an_agent_that_does_not_trust_the_servers_ca_gets_no_info_file(
    deployment: Deployment, tmp_path: Path
) -> None:
    """Verification is on: trusting only the public CAs, the agent refuses the info file (§9.4)."""
    marker = tmp_path / "ran"
    package_id = deployment.build("untrusted", "--action", "EXECUTE", "--command", f"touch {marker}")
    deployment.activate(package_id)
    public_cas = Path("/etc/ssl/certs/ca-certificates.crt")
    untrusted = Deployment(deployment.server, tmp_path / "untrusted", ca=public_cas)
    untrusted.run_agent()
    computer_id = Computer.objects.get(device_id=untrusted.device_id()).pk
    deployment.ocelot("package", "assign", str(package_id), "--computer", str(computer_id), "--json")
    untrusted.run_agent()
    try:
        assert untrusted.wait_for_results([package_id]) == {package_id: "ERR_DOWNLOAD_INFO"}
    finally:
        untrusted.stop_worker()
    assert not marker.exists()


def test_the_embedded_server_serves_fragments_with_range_and_info_over_https_only(
    deployment: Deployment,
) -> None:
    """The running server (granian, both listeners) answers as the Django tests say."""
    import http.client
    import ssl

    server = deployment.server
    archive = tar_gz(("job.sh", b"#!/bin/sh\n"), ("blob.bin", os.urandom(5000)))
    package_id = deployment.build(
        "served", "--action", "EXECUTE", "--command", "sh job.sh", "--fragments", "2", archive=archive
    )
    directory = server.home / "packages" / "download" / str(package_id)
    info = (directory / "info").read_bytes()
    fragment = (directory / f"{package_id}-2").read_bytes()
    context = ssl.create_default_context(cafile=str(server.cacert))

    def get(secure: bool, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
        connection: http.client.HTTPConnection
        if secure:
            connection = http.client.HTTPSConnection(
                "127.0.0.1", server.https_port, context=context, timeout=30
            )
        else:
            connection = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=30)
        try:
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read(), response.headers
        finally:
            connection.close()

    assert get(True, f"/download/{package_id}/info")[:2] == (200, info)
    assert get(False, f"/download/{package_id}/info")[0] == 403
    assert get(False, f"/download/{package_id}/{package_id}-2")[:2] == (200, fragment)
    assert get(True, f"/download/{package_id}/{package_id}-2")[:2] == (200, fragment)
    status, body, headers = get(False, f"/download/{package_id}/{package_id}-2", {"Range": "bytes=10-19"})
    assert (status, body) == (206, fragment[10:20])
    assert headers["Content-Range"] == f"bytes 10-19/{len(fragment)}"
    assert get(False, f"/download/{package_id}/../../pki/ca.key")[0] == 404
