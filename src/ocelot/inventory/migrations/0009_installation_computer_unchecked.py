"""PostgreSQL and MariaDB stop checking each installation's computer row by row.

After migration 0008 the foreign key to the computer was the rest of the per-row checks of
a first inventory's 800 installations: in one process on PostgreSQL, 8-12 ms of the
backend's CPU per first inventory (bench/README.md, "Where the time goes"). Integrity is
kept by locking instead: an inventory writes installations while holding its computer's
row (``SELECT ... FOR UPDATE``) or a computer no other transaction can see yet, and every
deletion of computers locks them before Django collects their rows, so no installation
can be written for a computer between the collection and the deletion. The other section
tables, a few rows per inventory each, keep their checks.

SQLite keeps its check: dropping a constraint there rebuilds the whole table, and its
writers are serialised anyway.
"""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

_TABLE = "inventory_softwareinstallation"


def _computer_keys(schema_editor: Any) -> list[str]:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, _TABLE)
    return sorted(
        name
        for name, details in constraints.items()
        if details["foreign_key"] and details["columns"] == ["computer_id"]
    )


def drop_check(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "sqlite":
        return
    model = apps.get_model("inventory", "SoftwareInstallation")
    for name in _computer_keys(schema_editor):
        schema_editor.execute(schema_editor._delete_fk_sql(model, name))


def restore_check(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "sqlite" or _computer_keys(schema_editor):
        return
    model = apps.get_model("inventory", "SoftwareInstallation")
    field = model._meta.get_field("computer")
    schema_editor.execute(schema_editor._create_fk_sql(model, field, "_fk_%(to_table)s_%(to_column)s"))


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0008_installation_catalogue_unchecked"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_check, restore_check)],
            state_operations=[
                migrations.AlterField(
                    model_name="softwareinstallation",
                    name="computer",
                    field=models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="inventory.computer",
                    ),
                ),
            ],
        ),
    ]
