"""An index on a call's updated_at, for API clients that fetch the calls changed since they
last looked.

On PostgreSQL it is built CONCURRENTLY, as in 0005: a plain CREATE INDEX would hold up every
webhook's write to tracking_call while it reads the whole table.
"""

from django.db import migrations, models

INDEX = models.Index(fields=["updated_at"], name="call_updated_idx")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.add_index(apps.get_model("tracking", "Call"), INDEX)
        return
    # Left behind, invalid, by a build that failed half-way.
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS call_updated_idx")
    schema_editor.execute(
        'CREATE INDEX CONCURRENTLY call_updated_idx ON "tracking_call" ("updated_at")'
    )


def backwards(apps, schema_editor):
    schema_editor.remove_index(apps.get_model("tracking", "Call"), INDEX)


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("tracking", "0008_call_back_and_search"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[migrations.AddIndex(model_name="call", index=INDEX)],
        ),
    ]
