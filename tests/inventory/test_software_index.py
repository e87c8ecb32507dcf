"""Installations of software carry one index starting with ``software_id`` (migration 0007).

The (software, computer) index serves every lookup by software; a single-column index
beside it only made each inventory's inserts slower. InnoDB keeps an index for each
foreign key itself, so on MariaDB the migration leaves the table as it is.
"""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import connection

from ocelot.inventory.models import SoftwareInstallation

migration = importlib.import_module("ocelot.inventory.migrations.0007_software_index_once")
TABLE = SoftwareInstallation._meta.db_table


def indexes_by_columns() -> list[list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    return sorted(
        details["columns"]
        for details in constraints.values()
        if details["index"] and not details["primary_key"] and details["columns"][0] == "software_id"
    )


@pytest.mark.django_db
def test_software_lookups_have_the_two_column_index_and_no_other_of_their_own() -> None:
    if connection.vendor == "mysql":
        # The foreign key's own InnoDB index stays (MariaDB requires one).
        assert ["software_id", "computer_id"] in indexes_by_columns()
    else:
        assert indexes_by_columns() == [["software_id", "computer_id"]]


@pytest.mark.django_db(transaction=True)
def test_the_migration_drops_the_single_column_index_and_its_reverse_puts_it_back() -> None:
    if connection.vendor == "mysql":
        before = indexes_by_columns()
        with connection.schema_editor() as editor:
            migration.create_index(apps, editor)
            migration.drop_index(apps, editor)
        assert indexes_by_columns() == before
        return
    with connection.schema_editor() as editor:
        migration.create_index(apps, editor)
    assert indexes_by_columns() == [["software_id"], ["software_id", "computer_id"]]
    with connection.schema_editor() as editor:
        migration.drop_index(apps, editor)
    assert indexes_by_columns() == [["software_id", "computer_id"]]
