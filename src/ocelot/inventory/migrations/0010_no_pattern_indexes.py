"""PostgreSQL: no second, pattern-matching index on the columns every contact and
inventory writes.

Django gives each indexed text column on PostgreSQL a second index with
``varchar_pattern_ops``, for case-sensitive ``LIKE 'prefix%'`` outside the C locale.
Ocelot never queries these columns that way: lookups are exact (the plain index), and
searches are case-insensitive, ``UPPER(column) LIKE UPPER(pattern)``, which neither index
serves. The computer table had five of them among its thirteen indexes, and every PROLOG
updates its row outside the page (the last contact is indexed), so every index gets an
entry per PROLOG: without them, in one process, 0.18 -> 0.155 ms of the backend's CPU per
PROLOG (bench/README.md, "Where the time goes"). The section tables a first inventory
writes lose theirs too. ``ipdiscover_discovereddevice.ip_address`` keeps its own: the
scan of a subnet looks devices up by address prefix (ipdiscover/scan.py).

SQLite and MariaDB have no such indexes: nothing to do there.
"""

import re
from typing import Any

from django.db import migrations

# The tables an agent's contact or inventory writes, by model name.
MODELS = ("Computer", "Bios", "NetworkInterface", "AccountInfo", "Software")


def _tables(apps: Any) -> list[str]:
    return [apps.get_model("inventory", name)._meta.db_table for name in MODELS]


def pattern_indexes(apps: Any, schema_editor: Any) -> list[str]:
    """Django's pattern-matching twins of those tables' plain indexes (none outside
    PostgreSQL). Indexes written on purpose stay: ``inventory_software_name_upper_like``
    (``UPPER(name) text_pattern_ops``, migration 0004) serves the case-insensitive
    search of software by name prefix."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
            " AND tablename = ANY(%s) ORDER BY indexname",
            [_tables(apps)],
        )
        rows = cursor.fetchall()
    # Django's own: "<table>_<column>_<hash>_like ON ... (<column> varchar_pattern_ops)".
    twin = re.compile(r"\(\w+ varchar_pattern_ops\)$")
    return [name for name, definition in rows if name.endswith("_like") and twin.search(definition)]


def drop_pattern_indexes(apps: Any, schema_editor: Any) -> None:
    quote = schema_editor.quote_name
    for name in pattern_indexes(apps, schema_editor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {quote(name)}")


def restore_pattern_indexes(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql" or pattern_indexes(apps, schema_editor):
        return
    for name in MODELS:
        model = apps.get_model("inventory", name)
        for field in model._meta.local_fields:
            statement = schema_editor._create_like_index_sql(model, field)
            if statement is not None:
                schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0009_installation_computer_unchecked"),
    ]

    operations = [migrations.RunPython(drop_pattern_indexes, restore_pattern_indexes)]
