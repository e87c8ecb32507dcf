"""A throwaway PostgreSQL cluster for tests that need a second database of another kind.

Debian's server binaries, ``initdb --auth=trust`` in a temporary directory (run as the
``postgres`` user when the tests run as root), 127.0.0.1 on a free port, durability off.
Missing binaries fail the test: a backup that cannot be shown to move to PostgreSQL is a
failure, never a skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.server_process import free_port


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    assert found, "PostgreSQL server binaries are missing under /usr/lib/postgresql: run 'make deps'"
    return found[-1].parent


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def postgres_cluster(databases: tuple[str, ...]) -> Iterator[str]:
    """Start a cluster with ``databases`` created; yield the URL prefix ``postgresql://.../``."""
    binaries = _postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="ocelot-test-pg-"))
    root.chmod(0o755)
    data = root / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    started = False
    try:
        subprocess.run(
            _as_postgres(
                [
                    *(str(binaries / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres"),
                    *("-E", "UTF8", "--no-locale", "--no-sync"),
                ]
            ),
            check=True,
            capture_output=True,
            cwd="/",
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c fsync=off -c synchronous_commit=off"
        subprocess.run(
            _as_postgres(
                [
                    *(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log")),
                    *("-w", "-o", options, "start"),
                ]
            ),
            check=True,
            capture_output=True,
            cwd="/",
        )
        started = True
        for name in databases:
            subprocess.run(
                [
                    *(str(binaries / "psql"), "-X", "-q", "-h", "127.0.0.1", "-p", str(port)),
                    *("-U", "postgres", "-d", "postgres", "-c", f'CREATE DATABASE "{name}"'),
                ],
                check=True,
                capture_output=True,
            )
        yield f"postgresql://postgres@127.0.0.1:{port}/"
    finally:
        if started:
            subprocess.run(
                _as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                check=False,
                capture_output=True,
                cwd="/",
            )
        shutil.rmtree(root, ignore_errors=True)
