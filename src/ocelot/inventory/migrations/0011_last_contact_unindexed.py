"""The last contact loses its index, so that a PROLOG's update of its computer stays in
the row's page on PostgreSQL.

A PROLOG writes four columns of its computer: QUALITY, FIDELITY, the last contact and the
user agent. PostgreSQL can update a row in place (a heap-only tuple: no new index entry,
and the old version pruned without a vacuum) only when no indexed column changes and the
page has room. The last contact was indexed, so every PROLOG added an entry to each of
the table's eight indexes and left a dead row version behind for autovacuum. The fill
factor keeps a tenth of each new page free for those in-place updates. In paired runs of
3,000 PROLOGs at concurrency 32, the server's CPU per PROLOG fell by about 5 %
(bench/README.md, "Where the time goes").

Nothing relied on the index: the console sorts and filters the computer list by last
contact (a scan of the table, like the sort by serial), and the dashboard's counts by
last contact scan the table already. SQLite and MariaDB lose the index too (one schema);
the fill factor is PostgreSQL's alone.
"""

from typing import Any

from django.db import migrations, models

FILL_FACTOR = 90


def _fill_factor(value: int | None) -> Any:
    def apply(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(apps.get_model("inventory", "Computer")._meta.db_table)
        if value is None:
            schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")
        else:
            schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {int(value)})")

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0010_no_pattern_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="computer",
            name="last_contact_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(_fill_factor(FILL_FACTOR), _fill_factor(None)),
    ]
