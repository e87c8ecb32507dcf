"""``ocelot server``'s third listener: package fragments sent with sendfile on a port of
their own (setting ``fragments``; communication/fragment_listener.py), where activations
point by default.

A real server on an empty home (its own SQLite database), a package built with the CLI,
and the CLI's ``package activate`` with no location: its check fetches the info file over
verified HTTPS and every fragment from the default location, the fragment listener.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.deployment.archives import tar_gz
from tests.server_process import ocelot_command, ocelot_environment, run_ocelot, start_server

pytestmark = pytest.mark.server


def fetch(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_the_server_serves_fragments_on_the_fragment_port_and_activations_point_there(tmp_path: Path) -> None:
    server = start_server(tmp_path / "home", None)
    try:
        archive = tmp_path / "package.tar.gz"
        archive.write_bytes(tar_gz(("run.sh", b"#!/bin/sh\nexit 0\n"), ("data.bin", os.urandom(100_000))))
        built = run_ocelot(
            server.home, None, "package", "build", "--name", "sendfile", "--os", "linux",
            "--action", "LAUNCH", "--command", "run.sh", "--file", str(archive), "--fragments", "2", "--json",
        )  # fmt: skip
        assert built.returncode == 0, built.stderr
        package_id = json.loads(built.stdout)["id"]
        fragment = server.home / "packages" / "download" / str(package_id) / f"{package_id}-2"
        path = f"/download/{package_id}/{package_id}-2"
        assert fetch(server.fragments_port, path) == (200, fragment.read_bytes())
        assert fetch(server.http_port, path) == (200, fragment.read_bytes())  # existing activations
        assert fetch(server.fragments_port, f"/download/{package_id}/info")[0] == 404  # HTTPS only

        # The CLI as an administrator runs it on that host: the server's own settings.
        env = {
            **ocelot_environment(server.home, None),
            "OCELOT_HTTP": f"127.0.0.1:{server.http_port}",
            "OCELOT_HTTPS": f"127.0.0.1:{server.https_port}",
            "OCELOT_FRAGMENTS": f"127.0.0.1:{server.fragments_port}",
        }
        done = subprocess.run(
            ocelot_command("package", "activate", str(package_id), "--json"),
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        activation = json.loads(done.stdout)
        assert activation["checked"] is True
        assert activation["fragment_location"] == f"127.0.0.1:{server.fragments_port}/download"
        assert activation["info_location"] == f"127.0.0.1:{server.https_port}/download"

        log = server.home / "log" / "server.log"
        wanted = f'"GET {path} HTTP/1.1" 200'
        deadline = time.monotonic() + 10
        while (
            log.read_text().count(wanted) < 3 and time.monotonic() < deadline
        ):  # ours, granian's, the check's
            time.sleep(0.1)
        assert log.read_text().count(wanted) >= 3, log.read_text()[-3000:]
        assert f"package fragments on http://127.0.0.1:{server.fragments_port}/download/" in server.output()
    finally:
        code = server.stop()
    assert code == 0, server.output()
    assert "Traceback" not in server.output()
