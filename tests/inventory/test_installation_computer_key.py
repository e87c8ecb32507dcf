"""An installation's computer is kept by locking, not checked row by row (migration 0009).

PostgreSQL and MariaDB no longer check each software installation's computer (800 checks
per first inventory); SQLite keeps its check. An inventory writes installations holding its
computer's row lock, and deleting computers locks them first, so a computer deleted while
its inventory is being written takes every installation with it.
"""

from __future__ import annotations

import importlib
import threading
import time

import pytest
from django.apps import apps
from django.db import connection, transaction

from ocelot.inventory.ingest import store_inventory
from ocelot.inventory.mass_actions import delete_computers
from ocelot.inventory.models import Computer, Software, SoftwareInstallation
from tests.inventory.payloads import small_inventory

migration = importlib.import_module("ocelot.inventory.migrations.0009_installation_computer_unchecked")
TABLE = SoftwareInstallation._meta.db_table
SOFTWARE = "<SOFTWARES><NAME>adduser</NAME><VERSION>3.134</VERSION></SOFTWARES>"


def checked_columns() -> list[str]:
    """The installation columns the database checks as foreign keys."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    return sorted(
        column for details in constraints.values() if details["foreign_key"] for column in details["columns"]
    )


@pytest.mark.django_db
def test_only_sqlite_checks_the_keys_of_an_installation() -> None:
    expected = ["computer_id", "software_id"] if connection.vendor == "sqlite" else []
    assert checked_columns() == expected


@pytest.mark.django_db(transaction=True)
def test_the_migration_drops_the_computer_check_on_the_servers_and_its_reverse_puts_it_back() -> None:
    with connection.schema_editor() as editor:
        migration.restore_check(apps, editor)
    expected_back = ["computer_id", "software_id"] if connection.vendor == "sqlite" else ["computer_id"]
    assert checked_columns() == expected_back
    with connection.schema_editor() as editor:
        migration.drop_check(apps, editor)
    assert checked_columns() == (["computer_id", "software_id"] if connection.vendor == "sqlite" else [])


@pytest.mark.django_db(transaction=True)
def test_a_computer_deleted_while_its_inventory_is_written_leaves_no_installation_behind() -> None:
    store_inventory(small_inventory("pc-2026-11-22-07-00-00", SOFTWARE))
    computer = Computer.objects.get()
    software = Software.objects.get()
    locked, errors = threading.Event(), []

    def write_inventory() -> None:
        # What ingest does: the computer's row locked, then its installations written.
        try:
            with transaction.atomic():
                Computer.objects.select_for_update().get(pk=computer.pk)
                SoftwareInstallation.objects.create(computer_id=computer.pk, software=software)
                locked.set()
                time.sleep(0.5)  # the deletion starts meanwhile
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def delete() -> None:
        try:
            assert locked.wait(10)
            delete_computers(Computer.objects.filter(pk=computer.pk), audit=lambda *_args, **_kw: None)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write_inventory), threading.Thread(target=delete)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert not Computer.objects.filter(pk=computer.pk).exists()
    assert not SoftwareInstallation.objects.filter(computer_id=computer.pk).exists()
