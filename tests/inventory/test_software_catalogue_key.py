"""An installation's catalogue entry is not checked row by row by the servers (migration 0008).

PostgreSQL and MariaDB no longer check each installation's catalogue id (the check locked
one catalogue row per installation, 800 per first inventory); SQLite keeps its check. The
ORM still refuses to delete a catalogue entry that is installed: the catalogue only grows.
Which keys the servers check at all: migration 0009's tests.
"""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import ProtectedError

from ocelot.inventory.ingest import store_inventory
from ocelot.inventory.models import Software, SoftwareInstallation
from tests.inventory.payloads import small_inventory

SOFTWARE = "<SOFTWARES><NAME>adduser</NAME><VERSION>3.134</VERSION></SOFTWARES>"

migration = importlib.import_module("ocelot.inventory.migrations.0008_installation_catalogue_unchecked")
TABLE = SoftwareInstallation._meta.db_table


def checked_columns() -> list[str]:
    """The installation columns the database checks as foreign keys."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    return sorted(
        column for details in constraints.values() if details["foreign_key"] for column in details["columns"]
    )


@pytest.mark.django_db
def test_a_catalogue_entry_that_is_installed_cannot_be_deleted() -> None:
    store_inventory(small_inventory("pc-2026-11-22-07-00-00", SOFTWARE))
    entry = SoftwareInstallation.objects.select_related("software").first()
    assert entry is not None

    with pytest.raises(ProtectedError):
        entry.software.delete()
    assert Software.objects.filter(pk=entry.software_id).exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_drops_the_check_on_the_servers_and_its_reverse_puts_it_back() -> None:
    with connection.schema_editor() as editor:
        migration.restore_check(apps, editor)
    expected_back = ["computer_id", "software_id"] if connection.vendor == "sqlite" else ["software_id"]
    assert checked_columns() == expected_back
    with connection.schema_editor() as editor:
        migration.drop_check(apps, editor)
    assert checked_columns() == (["computer_id", "software_id"] if connection.vendor == "sqlite" else [])
