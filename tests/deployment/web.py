"""A home with its own CA, packages built into it, and small web servers serving its tree.

Used by the activation tests: the check fetches the files over real HTTP and HTTPS
connections, so they are served by real (in-process, threaded) servers on loopback.
"""

from __future__ import annotations

import dataclasses
import functools
import http.server
import io
import shutil
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ocelot.deployment.build import PackageRequest, build_package
from ocelot.deployment.models import Package
from ocelot.deployment.storage import default_store
from ocelot.server.pki import ensure_pki
from tests.deployment.archives import tar_gz

SCRIPT = b"#!/bin/sh\nexit 3\n"


def use_home(settings: Any, home: Path, pki_cache: Path) -> Path:
    """Point the configuration at ``home``, with a CA copied from ``pki_cache`` (made once)."""
    if not (pki_cache / "pki" / "ca.pem").exists():
        ensure_pki(pki_cache / "pki", pki_cache / "public")
    shutil.copytree(pki_cache, home, dirs_exist_ok=True)
    settings.CONFIG = dataclasses.replace(settings.CONFIG, home=home)
    return home


def build_launch(name: str = "launch", *, fragments: int = 3, priority: int = 5) -> Package:
    archive = tar_gz(("run.sh", SCRIPT), ("data.bin", bytes(range(256)) * 200))
    request = PackageRequest(
        name=name, os="linux", action="LAUNCH", command="run.sh", fragment_count=fragments, priority=priority
    )
    return build_package(request, io.BytesIO(archive))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def static_server(root: Path, *, tls: bool = False) -> Iterator[str]:
    """Serve ``root`` (the ``packages`` directory) on 127.0.0.1; yields ``host:port``."""
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls:
        pki = default_store().pki_dir
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(pki / "server.pem"), str(pki / "server.key"))
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
