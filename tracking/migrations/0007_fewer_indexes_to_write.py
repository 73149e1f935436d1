"""Fewer indexes to write on every call: each one is written when a call comes in and, as most
events change a column the reports' covering index includes, on most of its updates too.

The call's campaign and number, and the leg's call, are read through composite indexes that
lead with them (call_campaign_started_idx, call_number_started_idx, unique_call_leg). On
PostgreSQL, the pattern index Django adds beside the unique Call SID serves nothing: the call
list searches Call SIDs exactly.
"""

import django.db.models.deletion
from django.db import migrations, models


def drop_call_sid_pattern_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'tracking_call'"
            " AND indexdef LIKE '%%(call_sid varchar_pattern_ops)%%'"
        )
        names = [name for (name,) in cursor.fetchall()]
    for name in names:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):

    dependencies = [
        ('tracking', '0006_leg_report_index'),
    ]

    operations = [
        migrations.AlterField(
            model_name='call',
            name='campaign',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='calls', to='tracking.campaign'),
        ),
        migrations.AlterField(
            model_name='call',
            name='tracking_number',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='calls', to='tracking.trackingnumber'),
        ),
        migrations.AlterField(
            model_name='callleg',
            name='call',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='legs', to='tracking.call', to_field='call_sid'),
        ),
        migrations.RunPython(drop_call_sid_pattern_index, migrations.RunPython.noop),
    ]
