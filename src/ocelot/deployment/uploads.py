"""Where an uploaded package archive lands while the request is read: a file on disk.

Django keeps uploads under 2.5 MiB in memory and writes larger ones to ``/tmp``. A package
may be 2 GiB (issue 4: "a 2 GiB package builds without holding it in memory"), and ``/tmp``
is often a small tmpfs, so the console and the API install :class:`StagingUploadHandler`
as the only handler before the body is read: every uploaded file, small or large, is
streamed chunk by chunk into an anonymous file in the store's ``staging/`` directory (the
file system the package will be published on) and removed when the request ends.

When the disk fills during the upload, the partial file is removed at once, the rest of
the body is read and dropped, and :func:`check_upload` turns it into the same one-line
PackageStorageError a build on a full disk gives (nothing is kept).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

from ocelot.deployment.errors import PackageStorageError, storage_error
from ocelot.deployment.staging import lock_descriptor
from ocelot.deployment.storage import default_store


class StagedUpload(UploadedFile):
    """An uploaded file written to a temporary file in ``directory`` (deleted on close)."""

    def __init__(self, name: str, content_type: str, charset: str | None, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        file = tempfile.NamedTemporaryFile(prefix="upload-", dir=directory)  # noqa: SIM115 - closed with the request
        # Locked until closed: a killed server leaves the file, the next start removes it
        # (staging.sweep), and a server starting meanwhile leaves it alone.
        lock_descriptor(file.fileno())
        super().__init__(file, name, content_type, 0, charset)
        self.path = file.name

    def temporary_file_path(self) -> str:
        return str(self.path)


class StagingUploadHandler(FileUploadHandler):
    """Streams each uploaded file to disk in the package staging directory."""

    def __init__(self, request: HttpRequest, directory: Path | None = None) -> None:
        super().__init__(request)  # type: ignore[arg-type]
        self.directory = directory or default_store().staging_dir
        self.failure: PackageStorageError | None = None

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        try:
            self.file = StagedUpload(
                str(self.file_name), str(self.content_type), self.charset, self.directory
            )
        except OSError as exc:
            self._fail(exc)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        try:
            self.file.write(raw_data)
        except OSError as exc:
            self.file.close()  # deletes the partial file now
            self._fail(exc)

    def _fail(self, exc: OSError) -> None:
        self.failure = storage_error("The uploaded archive could not be stored", exc)
        raise StopUpload(connection_reset=False)

    def file_complete(self, file_size: int) -> UploadedFile:
        self.file.seek(0)
        self.file.size = file_size
        return self.file


def stream_uploads_to_disk(request: HttpRequest) -> None:
    """Make every file of this request's body go to disk (call before the body is read)."""
    request.upload_handlers = [StagingUploadHandler(request)]


def check_upload(request: HttpRequest) -> None:
    """PackageStorageError if an uploaded file could not be stored (call after reading FILES)."""
    for handler in request.upload_handlers:
        if isinstance(handler, StagingUploadHandler) and handler.failure is not None:
            raise handler.failure
