"""An uploaded archive goes to a file in staging/, whatever its size, and a disk that fills
during the upload gives one clear storage error and leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from ocelot.deployment.errors import PackageStorageError
from ocelot.deployment.uploads import StagedUpload, StagingUploadHandler, check_upload
from tests.deployment.test_build import mounted_tmpfs


def posted(directory: Path, content: bytes) -> tuple[object, object]:
    request = RequestFactory().post(
        "/packages/build/", {"name": "x", "file": SimpleUploadedFile("a.zip", content)}
    )
    request.upload_handlers = [StagingUploadHandler(request, directory)]
    return request, request.FILES.get("file")


def test_an_upload_of_a_few_bytes_is_a_file_on_disk_too(tmp_path: Path) -> None:
    request, uploaded = posted(tmp_path, b"tiny")
    assert isinstance(uploaded, StagedUpload)
    assert Path(uploaded.temporary_file_path()).parent == tmp_path
    assert uploaded.read() == b"tiny"
    check_upload(request)  # nothing failed
    uploaded.close()
    assert list(tmp_path.iterdir()) == []


def test_a_disk_that_fills_during_the_upload_is_a_storage_error_and_keeps_nothing(tmp_path: Path) -> None:
    with mounted_tmpfs(tmp_path / "small", "1m") as small:
        request, uploaded = posted(small, b"z" * (3 * 1024 * 1024))
        assert uploaded is None
        assert request.POST["name"] == "x"  # the fields before the file are kept
        with pytest.raises(
            PackageStorageError, match=r"^The uploaded archive could not be stored: No space left"
        ):
            check_upload(request)
        assert list(small.iterdir()) == []
