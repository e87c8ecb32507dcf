"""A real ``ocelot server`` process for end-to-end tests, and the ``ocelot`` command line.

The server runs exactly as an administrator starts it (``python -m ocelot.cli server``),
in its own session so that its gunicorn children can always be reaped, with its output in
``<home>/server.log`` (a file, never a pipe: a chatty server must not block on a full pipe).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

STARTUP_TIMEOUT = 120.0
STOP_TIMEOUT = 40.0


class ServerStartError(RuntimeError):
    """The server exited or did not answer in time; the message holds its output."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ocelot_command(*args: str) -> list[str]:
    """The ``ocelot`` console command of the interpreter running the tests."""
    return [sys.executable, "-m", "ocelot.cli", *args]


def ocelot_environment(home: Path, database_url: str | None) -> dict[str, str]:
    """The environment of an ``ocelot`` process: its own home, the given database.

    ``database_url=None`` leaves the database to the default (SQLite inside ``home``).
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("OCELOT_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["OCELOT_HOME"] = str(home)
    if database_url is not None:
        env["OCELOT_DATABASE_URL"] = database_url
    # The fragment listener's default port (8081) would be shared by every server the
    # tests start at once: off unless a test gives it a port (start_server does).
    env["OCELOT_FRAGMENTS"] = ""
    env["OCELOT_WORKERS"] = "1"
    env["OCELOT_THREADS"] = "4"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_ocelot(
    home: Path, database_url: str | None, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run one ``ocelot`` verb to completion and capture its output."""
    return subprocess.run(
        ocelot_command(*args),
        env=ocelot_environment(home, database_url),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def database_url_for(settings_dict: dict[str, object], configured_url: str) -> str:
    """The URL of the database ``settings_dict`` names, on the server ``configured_url`` names.

    Used to point a server process at the test database pytest-django created: same
    engine, host, port and credentials as the configured URL, the test database's name.
    """
    name = str(settings_dict["NAME"])
    parts = urlsplit(configured_url)
    if parts.scheme == "sqlite":
        return f"sqlite:///{Path(name).resolve()}"
    return urlunsplit(parts._replace(path="/" + quote(name)))


def current_test_database_url() -> str:
    """The URL of the test database pytest-django created (after ``django_db_setup``)."""
    from django.conf import settings
    from django.db import connection

    return database_url_for(connection.settings_dict, settings.CONFIG.database_url)


@dataclass
class OcelotServer:
    """A running ``ocelot server``: its home, ports and process."""

    home: Path
    http_port: int
    https_port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    fragments_port: int = 0  # the fragment listener's (communication/fragment_listener.py); 0: off

    @property
    def agent_url(self) -> str:
        """The agent endpoint, as agents are configured with it (``--server``)."""
        return f"http://127.0.0.1:{self.http_port}/ocsinventory"

    @property
    def cacert(self) -> Path:
        """The CA certificate the server publishes for agents and browsers."""
        return self.home / "public" / "cacert.pem"

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, signum: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int:
        """Send ``signum`` to the server, wait for it, and reap anything it left behind."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        # The server runs in a session of its own (process group id = its pid): whatever
        # is still in that group (a gunicorn arbiter orphaned by a crash) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.returncode


def _answers_http(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/ocsinventory")
        connection.getresponse().read()
    except OSError:
        return False
    finally:
        connection.close()
    return True


def _accepts_tcp(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            return True
    except OSError:
        return False


def start_server(
    home: Path,
    database_url: str | None,
    *,
    timeout: float = STARTUP_TIMEOUT,
    attempts: int = 3,
    environment: dict[str, str] | None = None,
    log_name: str = "server",
) -> OcelotServer:
    """Start ``ocelot server`` on free loopback ports and wait until its three listeners
    (HTTP, HTTPS, fragments) answer.

    A port taken between choosing and binding it makes the server exit; that start is
    retried on new ports. Any other failure raises ServerStartError with the output.
    ``environment`` adds or overrides variables (``OCELOT_WORKERS``, ``OCELOT_ENGINE``, ...).
    ``log_name`` names the output file in ``home``: two servers sharing one home need two.
    """
    home.mkdir(parents=True, exist_ok=True)
    env = {**ocelot_environment(home, database_url), **(environment or {})}
    failure = ""
    for attempt in range(attempts):
        http_port, https_port, fragments_port = free_port(), free_port(), free_port()
        while len({http_port, https_port, fragments_port}) < 3:
            https_port, fragments_port = free_port(), free_port()
        log_path = home / (f"{log_name}.log" if attempt == 0 else f"{log_name}-{attempt}.log")
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                ocelot_command(
                    *("server", "--http", f"127.0.0.1:{http_port}", "--https", f"127.0.0.1:{https_port}"),
                    *("--fragments", f"127.0.0.1:{fragments_port}"),
                ),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = OcelotServer(home, http_port, https_port, process, log_path, fragments_port)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline and server.running():
                if _answers_http(http_port) and _accepts_tcp(https_port) and _accepts_tcp(fragments_port):
                    return server
                time.sleep(0.2)
        except BaseException:  # Ctrl-C or SIGTERM while waiting: the server must not outlive us
            server.stop()
            raise
        running = server.running()
        server.stop()
        failure = server.output()
        if running:
            raise ServerStartError(f"ocelot server did not answer within {timeout:.0f} s:\n{failure}")
        if "in use" not in failure:
            break
    raise ServerStartError(f"ocelot server exited during start-up:\n{failure}")
