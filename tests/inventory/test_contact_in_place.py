"""A contact's update of its computer touches no indexed column (migration 0011).

Every PROLOG writes QUALITY, FIDELITY, the last contact and the user agent. On PostgreSQL
an update that changes no indexed column, on a page with room, stays in the page (a
heap-only tuple): no entry in any of the computer table's indexes, no dead version left
for autovacuum. The other databases have nothing like it, but the rule is the schema's.
"""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps
from django.db import connection

from ocelot.inventory import contact
from ocelot.inventory.contact import answer_contact
from ocelot.inventory.models import Computer

pytestmark = pytest.mark.django_db

UA = "OCS-NG_unified_unix_agent_v2.10.0"
DEVICE = "pc-2026-01-01-00-00-00"
migration = importlib.import_module("ocelot.inventory.migrations.0011_last_contact_unindexed")


def written_columns() -> set[str]:
    """The columns the contact's own UPDATE sets, read from the statement this database runs."""
    if connection.vendor == "postgresql":
        statement = contact._contact_sql_postgresql((), (), True)
    else:
        statement = contact._contact_sql()[1]
    assignments = statement.split(" SET ", 1)[1].split(" WHERE ", 1)[0]
    return set(re.findall(r"(?:^|, )(\w+) = ", assignments))


def indexed_columns() -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Computer._meta.db_table)
    return {
        column
        for details in constraints.values()
        if details["index"] or details["unique"] or details["primary_key"]
        for column in details["columns"] or ()
    }


def test_no_index_of_the_computer_table_covers_a_column_a_contact_writes() -> None:
    written = written_columns()
    assert written == {"quality", "fidelity", "last_contact_at", "user_agent"}
    assert "device_id" in indexed_columns()  # the look-up itself stays indexed
    assert written & indexed_columns() == set()


def update_counters() -> tuple[int, int] | None:
    """This transaction's updates of the computer table, and how many stayed in their page
    (PostgreSQL's statistics; the other databases keep no such count)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = %s",
            [Computer._meta.db_table],
        )
        updated, in_place = cursor.fetchone()
    return int(updated), int(in_place)


def test_three_contacts_update_their_computer_three_times_in_place_on_postgresql() -> None:
    Computer.objects.create(device_id=DEVICE)
    before = update_counters()
    for _ in range(3):
        assert answer_contact(DEVICE, user_agent=UA).send
    assert Computer.objects.get().fidelity == 4
    if before is not None:
        updated, in_place = before
        assert update_counters() == (updated + 3, in_place + 3)


class RecordingEditor:
    """The part of a schema editor the migration's function uses, keeping what it runs."""

    def __init__(self) -> None:
        self.connection = connection
        self.statements: list[str] = []

    def quote_name(self, name: str) -> str:
        return connection.ops.quote_name(name)

    def execute(self, sql: str) -> None:
        self.statements.append(sql)


def fill_factor() -> list[str] | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [Computer._meta.db_table])
        (options,) = cursor.fetchone()
    return options


def test_new_pages_keep_room_on_postgresql_and_the_reverse_migration_gives_it_back() -> None:
    editor = RecordingEditor()
    migration._fill_factor(None)(apps, editor)
    migration._fill_factor(migration.FILL_FACTOR)(apps, editor)
    if connection.vendor != "postgresql":
        assert editor.statements == []  # a fill factor is PostgreSQL's alone
        return
    assert fill_factor() == ["fillfactor=90"]
    reset, restore = editor.statements
    with connection.cursor() as cursor:  # in the test's transaction, rolled back after it
        cursor.execute(reset)
        assert fill_factor() is None
        cursor.execute(restore)
    assert fill_factor() == ["fillfactor=90"]
