"""``ocelot server``: initialise the home directory, migrate, and serve.

Two servers run side by side: HTTP for agents (and fragments) and HTTPS for the console,
the API, the info files and agents configured with https. Each has one worker process per
core with a few threads each, so agent storms and administrators do not share a queue
(security.md R1). A third listener, on a port of its own (setting ``fragments``, default
127.0.0.1:8081), serves only package fragments, sent with ``sendfile``
(communication/fragment_listener.py); activations point there by default. Ctrl-C or
SIGTERM stops them all cleanly.

The engine is granian by default: its connections live in Rust, so an idle or slow client
holds no Python thread, and it answered agents' PROLOGs faster than gunicorn's threaded
workers on the same machine (bench/README.md). ``OCELOT_ENGINE=gunicorn`` keeps gunicorn.
Both stream request bodies to the application (an upload is never held whole in memory).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import FrameType

from ocelot.server.logfiles import LogFile, open_server_log


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocelot.server.settings")
    import django

    django.setup()


def initialise(*, verbose: bool) -> None:
    """Create or upgrade everything the server needs: database, CA, first administrator."""
    _django()
    from django.conf import settings
    from django.core.management import call_command

    from ocelot.accounts.administrators import create_user, has_administrator
    from ocelot.server.pki import ensure_pki

    config = settings.CONFIG
    config.home.mkdir(parents=True, exist_ok=True)
    config.package_dir.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=1 if verbose else 0)
    if ensure_pki(config.pki_dir, config.public_dir) and verbose:
        cacert = config.public_dir / "cacert.pem"
        print(f"Created a certificate authority; agents verify this server with {cacert}")
    # What a killed package build or upload left in staging/ (security.md T35).
    from ocelot.deployment.staging import sweep
    from ocelot.deployment.storage import default_store

    removed = sweep(default_store())
    if removed and verbose:
        print(f"Removed {len(removed)} leftover(s) of interrupted package builds or uploads from staging/")
    if not has_administrator():
        password = create_user("admin", administrator=True)
        print("=" * 72)
        print("First administrator created. This password is shown only once:")
        print(f"    user: admin    password: {password}")
        print("=" * 72)
    sys.stdout.flush()


# gunicorn's access log; under granian the application writes the same shape of line
# itself (server/rsgi.py, access_line): addr "METHOD path HTTP/1.1" status 1.2ms.
GUNICORN_ACCESS_LOG = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'


def _host_port(bind: str) -> tuple[str, str]:
    host, _, port = bind.rpartition(":")
    return host.strip("[]") or "127.0.0.1", port


def _granian(bind: str, workers: int, threads: int, tls: tuple[str, str] | None) -> list[str]:
    del threads  # read by the application from OCELOT_THREADS (server/rsgi.py)
    host, port = _host_port(bind)
    # RSGI: fragments are sent by granian from Rust; every other request goes to the WSGI
    # application in a pool of ``threads`` threads per worker (server/rsgi.py), which is
    # why granian's own blocking threads stay at their RSGI default of one.
    command = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "rsgi",
        "--host",
        host,
        "--port",
        port,
        "--workers",
        str(workers),
        "--no-ws",
        "--respawn-failed-workers",
        "--workers-kill-timeout",
        "10",
        # Each request's coroutine stepped by granian in Rust rather than as an asyncio
        # Task: with the agent threads' hand-off (server/answer_threads.py), 12 % less
        # server CPU per PROLOG in paired runs (alone it changed nothing). granian calls it
        # experimental and falls back to asyncio by itself on Python 3.12 and later.
        "--task-impl",
        "rust",
    ]
    if tls:
        command += ["--ssl-certificate", tls[0], "--ssl-keyfile", tls[1]]
    return [*command, "ocelot.server.rsgi:application"]


def _gunicorn(bind: str, workers: int, threads: int, tls: tuple[str, str] | None) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "ocelot.server.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--preload",
        # Two arbiters run side by side; gunicorn's control socket has one fixed path.
        "--no-control-socket",
        "--graceful-timeout",
        "10",
        "--timeout",
        "120",
        "--keep-alive",
        "30",
        "--access-logfile",
        "-",
        "--access-logformat",
        GUNICORN_ACCESS_LOG,
    ]
    if tls:
        command += ["--certfile", tls[0], "--keyfile", tls[1]]
    return command


def _fragment_listener(bind: str, workers: int, download_dir: str) -> list[str]:
    # The same number of worker processes as the other listeners, forked after one bind.
    return [
        sys.executable,
        "-m",
        "ocelot.communication.fragment_listener",
        "--bind",
        bind,
        "--directory",
        download_dir,
        "--workers",
        str(workers),
    ]


def _child(command: list[str], log: LogFile | None) -> subprocess.Popen[bytes]:
    if log is None:
        return subprocess.Popen(command)
    # The workers' output goes through this process, the log file's only writer
    # (server/logfiles.py). One access line per request, every PROLOG's and every
    # fragment's: copied in blocks (line by line the copy cost about 0.03 ms of CPU per
    # line, 4 % of a PROLOG's and a sixth of serving a 1 MiB fragment).
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert child.stdout is not None
    log.pump(child.stdout)
    return child


def _listener(
    engine: str, bind: str, workers: int, threads: int, tls: tuple[str, str] | None, log: LogFile | None
) -> subprocess.Popen[bytes]:
    build = _granian if engine == "granian" else _gunicorn
    return _child(build(bind, workers, threads, tls), log)


def run(*, http: str | None, https: str | None, workers: int | None, fragments: str | None = None) -> int:
    if http:
        os.environ["OCELOT_HTTP"] = http
    if https:
        os.environ["OCELOT_HTTPS"] = https
    if fragments is not None:
        os.environ["OCELOT_FRAGMENTS"] = fragments
    initialise(verbose=True)
    from django.conf import settings

    config = settings.CONFIG
    count = workers or config.workers
    tls = (str(config.pki_dir / "server.pem"), str(config.pki_dir / "server.key"))
    # Metrics of this run's worker processes, summed at scrape (server/metrics_store.py).
    from ocelot.server.metrics_store import ENVIRONMENT, start_run_directory

    os.environ[ENVIRONMENT] = str(start_run_directory(config.metrics_dir))
    log = open_server_log(config.log_dir, config.log_max_bytes, config.log_backups)
    if log is not None:
        log.write_line(f"ocelot server starting (pid {os.getpid()}, engine {config.engine})")
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    children = [
        _listener(config.engine, config.http_bind, count, config.threads, None, log),
        _listener(config.engine, config.https_bind, count, config.threads, tls, log),
    ]
    if config.fragments_bind:
        download_dir = str(config.package_dir / "download")
        children.append(_child(_fragment_listener(config.fragments_bind, count, download_dir), log))
    print(f"Ocelot serving agents on http://{config.http_bind}/ocsinventory", flush=True)
    if config.fragments_bind:
        print(f"Ocelot serving package fragments on http://{config.fragments_bind}/download/", flush=True)
    print(f"Ocelot serving the console and info files on https://{config.https_bind}/", flush=True)

    status = 0
    while not stopping:
        if any(child.poll() is not None for child in children):
            status = 1
            break
        time.sleep(0.2)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
    if log is not None:
        log.close()
    if status:
        print("ocelot server: a listener stopped unexpectedly (is the port in use?)", file=sys.stderr)
    return status
