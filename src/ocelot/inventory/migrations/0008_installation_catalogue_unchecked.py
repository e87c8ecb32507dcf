"""PostgreSQL and MariaDB stop checking each installation's catalogue entry row by row.

A first inventory writes about 800 installations, and the foreign key to the catalogue
made the database look up and lock (``FOR KEY SHARE`` on PostgreSQL, a shared row lock on
InnoDB) one catalogue row per installation: on PostgreSQL 8-13 ms of the backend's CPU per
inventory in ``EXPLAIN ANALYZE``, more under load, where eight agents installing the same
packages lock the same rows and PostgreSQL makes a multixact for each row shared
(bench/README.md, "Where the time goes"). What the check guarded against cannot happen:
the catalogue only grows (nothing deletes an entry; the ORM's ``PROTECT`` refuses to
delete one that is installed), and an inventory only writes ids it has just read from it
(``ingest.ensure_software``). The installation's key to its computer stays checked: a
computer can be deleted while it sends an inventory.

SQLite keeps its check: dropping a constraint there rebuilds the whole table, and its
checks are cheap b-tree lookups in the same process.
"""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

_TABLE = "inventory_softwareinstallation"


def _catalogue_keys(schema_editor: Any) -> list[str]:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, _TABLE)
    return sorted(
        name
        for name, details in constraints.items()
        if details["foreign_key"] and details["columns"] == ["software_id"]
    )


def drop_check(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "sqlite":
        return
    model = apps.get_model("inventory", "SoftwareInstallation")
    for name in _catalogue_keys(schema_editor):
        schema_editor.execute(schema_editor._delete_fk_sql(model, name))


def restore_check(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "sqlite" or _catalogue_keys(schema_editor):
        return
    model = apps.get_model("inventory", "SoftwareInstallation")
    field = model._meta.get_field("software")
    schema_editor.execute(schema_editor._create_fk_sql(model, field, "_fk_%(to_table)s_%(to_column)s"))


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0007_software_index_once"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_check, restore_check)],
            state_operations=[
                migrations.AlterField(
                    model_name="softwareinstallation",
                    name="software",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="installations",
                        to="inventory.software",
                    ),
                ),
            ],
        ),
    ]
