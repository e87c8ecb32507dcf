"""Installations of software keep one index starting with ``software_id``, not two.

``installed_software_computer`` (software, computer) serves every lookup by software, so
the single-column index of the foreign key only made each inventory's hundreds of inserts
maintain one more index (bench/README.md, "Where the time goes"). Only the index is
dropped: Django's own ``AlterField`` would rebuild the whole table on SQLite. MariaDB and
MySQL are left alone: InnoDB keeps an index for every foreign key itself, and Django never
created a separate one there.
"""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

_TABLE = "inventory_softwareinstallation"


def _software_indexes(schema_editor: Any) -> list[str]:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, _TABLE)
    return sorted(
        name
        for name, details in constraints.items()
        if details["index"]
        and details["columns"] == ["software_id"]
        and not details["unique"]
        and not details["primary_key"]
        and not details["foreign_key"]
    )


def drop_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "mysql":
        return
    model = apps.get_model("inventory", "SoftwareInstallation")
    for name in _software_indexes(schema_editor):
        schema_editor.execute(schema_editor._delete_index_sql(model, name))


def create_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "mysql" or _software_indexes(schema_editor):
        return
    model = apps.get_model("inventory", "SoftwareInstallation")
    field = model._meta.get_field("software")
    schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0006_dynamic_groups"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_index, create_index)],
            state_operations=[
                migrations.AlterField(
                    model_name="softwareinstallation",
                    name="software",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="installations",
                        to="inventory.software",
                    ),
                ),
            ],
        ),
    ]
