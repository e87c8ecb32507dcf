"""The tables agents write carry no pattern-matching index on PostgreSQL (migration 0010).

Every PROLOG updates its computer's row and every index of the table gets an entry; the
``varchar_pattern_ops`` twins Django adds on PostgreSQL serve case-sensitive prefix LIKE,
which Ocelot never runs on these columns. Their plain indexes stay, on every database.
"""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from ocelot.inventory.models import Computer, NetworkInterface

migration = importlib.import_module("ocelot.inventory.migrations.0010_no_pattern_indexes")


def pattern_indexes() -> list[str]:
    # Only reads: no schema editor (SQLite's refuses to open inside a test's transaction).
    return migration.pattern_indexes(apps, SimpleNamespace(connection=connection))


def indexed_columns(model: type) -> list[list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return [details["columns"] for details in constraints.values() if details["index"] or details["unique"]]


@pytest.mark.django_db
def test_the_agent_tables_keep_their_plain_indexes_and_have_no_pattern_twins() -> None:
    assert pattern_indexes() == []
    # The last contact lost its own index in migration 0011 (tests/inventory/test_contact_in_place.py).
    for column in ("device_id", "name", "os_name", "ip_address", "uuid", "last_inventory_at"):
        assert [column] in indexed_columns(Computer), column
    assert ["mac"] in indexed_columns(NetworkInterface)


@pytest.mark.django_db(transaction=True)
def test_the_reverse_migration_puts_the_pattern_indexes_back_on_postgresql() -> None:
    with connection.schema_editor() as editor:
        migration.restore_pattern_indexes(apps, editor)
    restored = pattern_indexes()
    if connection.vendor == "postgresql":
        computer = [name for name in restored if name.startswith("inventory_computer_")]
        assert len(computer) == 5 and all(name.endswith("_like") for name in restored)
    else:
        assert restored == []
    with connection.schema_editor() as editor:
        migration.drop_pattern_indexes(apps, editor)
    assert pattern_indexes() == []


@pytest.mark.django_db
def test_the_address_prefix_index_of_discovered_devices_stays() -> None:
    # ipdiscover/scan.py looks devices up by address prefix (``ip_address__startswith``).
    if connection.vendor != "postgresql":
        assert pattern_indexes() == []
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'ipdiscover_discovereddevice'"
            " AND indexdef LIKE '%%ip_address varchar_pattern_ops%%'"
        )
        assert cursor.fetchone()[0] == 1
