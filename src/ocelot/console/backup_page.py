"""The backup download page (issue 7): administrators only, the password asked again.

A backup holds every password hash, the CA's private key and the package signing key, so
a live session is not enough: the administrator types the password again (a session left
open on a desk must not hand them out), attempts are throttled as logins are
(accounts/throttle.py), and every download and every refusal is in the audit log.

The archive is what ``ocelot backup`` writes (server/backup.py ``write_backup``, which
writes to a file object). The console is a door and never imports the composition root:
the server names the writer in ``settings.OCELOT_BACKUP_WRITER``. It runs in a thread
writing into a pipe, and the response streams from the pipe's other end in 256 KiB
blocks, so the archive is never held in memory whatever its size; a client that goes
away closes the pipe and the writer stops (BrokenPipeError).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from ocelot.accounts import throttle
from ocelot.accounts.audit import record
from ocelot.console.requests import address_of, admin_view

log = logging.getLogger("ocelot.console.backup")

CHUNK = 256 * 1024
BackupWriter = Callable[[IO[bytes], Path], Any]


def _writer() -> BackupWriter:
    writer: BackupWriter = import_string(settings.OCELOT_BACKUP_WRITER)  # type: ignore[misc]
    return writer


def backup_stream(write: BackupWriter, home: Path) -> Iterator[bytes]:
    """The bytes ``write(file, home)`` produces, as they are produced (a thread and a pipe)."""
    read_end, write_end = os.pipe()

    def produce() -> None:
        try:
            with os.fdopen(write_end, "wb", buffering=CHUNK) as pipe:
                write(pipe, home)
        except BrokenPipeError:
            log.info("backup download abandoned by the client")
        except Exception:
            # The response has started: it cannot become an error page. The archive ends
            # before its manifest, so `ocelot restore` refuses it.
            log.exception("backup download failed part-way")
        finally:
            connections.close_all()  # this thread's own database connection

    producer = threading.Thread(target=produce, name="backup-download", daemon=True)
    producer.start()
    try:
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            while block := pipe.read(CHUNK):
                yield block
    finally:
        producer.join()


@never_cache
@admin_view
def backup_page(request: HttpRequest) -> HttpResponse:
    """GET: the form. POST with the right password: the archive, as a download."""
    error = ""
    status = 200
    if request.method == "POST":
        username = request.user.get_username()
        address = address_of(request)
        wait = throttle.seconds_to_wait(username, address)
        if wait:
            error = _("Too many failed attempts. Try again in %(seconds)d seconds.") % {"seconds": wait}
            status = 429
        elif not request.user.check_password(request.POST.get("password", "")):
            throttle.register_failure(username, address)
            record(request.user, "backup.refused", address=address, reason="wrong password")
            error = _("Wrong password: no backup was made.")
            status = 403
        else:
            throttle.register_success(username, address)
            record(request.user, "backup.download", address=address)
            name = f"ocelot-backup-{timezone.now():%Y%m%d-%H%M%S}.tar"
            response = StreamingHttpResponse(
                backup_stream(_writer(), settings.CONFIG.home),  # type: ignore[misc]
                content_type="application/x-tar",
            )
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response  # type: ignore[return-value]  # admin_view types views as HttpResponse
    return render(request, "console/backup.html", {"error": error}, status=status)


urlpatterns = [path("backup/", backup_page, name="backup")]
