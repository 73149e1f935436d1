"""Fewer indexes to write on every call: each one is written when a call comes in and, as most
events change a column the reports' covering index includes, on most of its updates too.

The call's campaign and number, and the leg's call, are read through composite indexes that
lead with them (call_campaign_started_idx, call_number_started_idx, unique_call_leg). The
pattern index PostgreSQL gets beside the unique Call SID stays: the call list's search finds a
call by the start of its SID.
"""

import django.db.models.deletion
from django.db import migrations, models


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
    ]
