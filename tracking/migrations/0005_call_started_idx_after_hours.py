"""The reports' covering index also carries `after_hours`, so the after-hours column comes from
the same index-only scans as every other figure (see tracking.selectors).

On PostgreSQL the new index is built CONCURRENTLY beside the old one, then swapped in: a plain
CREATE INDEX would hold up every webhook's INSERT into tracking_call while it reads the whole
table. SQLite has no included columns (models.W040), so its index does not change.
"""

from django.db import migrations, models

OLD_INCLUDE = ["campaign_id", "tracking_number_id", "outcome", "whispered_at", "talk_seconds"]
NEW_INCLUDE = [*OLD_INCLUDE, "after_hours"]


def _rebuild(schema_editor, include):
    if schema_editor.connection.vendor != "postgresql":
        return
    columns = ", ".join(f'"{column}"' for column in include)
    for sql in (
        # Left behind, invalid, by a build that failed half-way.
        "DROP INDEX CONCURRENTLY IF EXISTS call_started_new_idx",
        'CREATE INDEX CONCURRENTLY call_started_new_idx ON "tracking_call" ("started_at") '
        f"INCLUDE ({columns})",
        "DROP INDEX CONCURRENTLY IF EXISTS call_started_idx",
        "ALTER INDEX call_started_new_idx RENAME TO call_started_idx",
    ):
        schema_editor.execute(sql)


def forwards(apps, schema_editor):
    _rebuild(schema_editor, NEW_INCLUDE)


def backwards(apps, schema_editor):
    _rebuild(schema_editor, OLD_INCLUDE)


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("tracking", "0004_call_flows"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.RemoveIndex(model_name="call", name="call_started_idx"),
                migrations.AddIndex(
                    model_name="call",
                    index=models.Index(
                        fields=["started_at"],
                        include=(
                            "campaign",
                            "tracking_number",
                            "outcome",
                            "whispered_at",
                            "talk_seconds",
                            "after_hours",
                        ),
                        name="call_started_idx",
                    ),
                ),
            ],
        ),
    ]
