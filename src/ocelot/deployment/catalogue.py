"""The built packages: find, list and delete them (seeds: "the red cross deletes a built package").

Deleting removes the database record, its activations and assignments (by cascade) and
the files (info and fragments) at once.
"""

from __future__ import annotations

import os
import shutil
import uuid

from django.db import transaction

from ocelot.deployment.errors import PackageNotFoundError, storage_error
from ocelot.deployment.models import Package
from ocelot.deployment.storage import PackageStore, default_store


def packages() -> list[Package]:
    """Every package, newest first."""
    return list(Package.objects.order_by("-package_id"))


def find_package(reference: str | int) -> Package:
    """A package by its numeric ID or by its exact name; PackageNotFoundError otherwise."""
    text = str(reference).strip()
    package = None
    if text.isdigit() and len(text) <= 18:
        package = Package.objects.filter(package_id=int(text)).first()
    if package is None:
        package = Package.objects.filter(name=text).first()
    if package is None:
        raise PackageNotFoundError(f"No package {text!r}.")
    return package


def delete_package(package: Package, *, store: PackageStore | None = None) -> None:
    """Remove the package's record and its published files.

    The directory is first renamed into staging (agents and web servers stop seeing it at
    once), then removed after the record is gone.
    """
    store = store or default_store()
    published = store.package_dir(package.package_id)
    hidden = store.staging_dir / f"deleted-{package.package_id}-{uuid.uuid4().hex}"
    with transaction.atomic():
        Package.objects.filter(pk=package.pk).delete()
        try:
            store.staging_dir.mkdir(parents=True, exist_ok=True)
            os.rename(published, hidden)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise storage_error("The package files could not be removed", exc) from exc
    shutil.rmtree(hidden, ignore_errors=True)
