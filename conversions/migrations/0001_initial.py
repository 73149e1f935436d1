import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("tracking", "0013_spam_screening_and_leads"),
    ]

    operations = [
        migrations.CreateModel(
            name="Upload",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("destination", models.CharField(choices=[("google_ads", "Google Ads"), ("ga4", "Google Analytics 4")], max_length=12)),
                ("status", models.CharField(choices=[("pending", "Waiting to be sent"), ("sending", "Sending"), ("sent", "Sent"), ("failed", "Failed"), ("canceled", "Not sent: no longer a qualified lead"), ("skipped", "Not sent")], default="pending", max_length=10)),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("lease_until", models.DateTimeField(blank=True, null=True)),
                ("claim", models.CharField(blank=True, max_length=32)),
                ("last_error", models.TextField(blank=True)),
                ("request_id", models.CharField(blank=True, max_length=100)),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("call", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="conversion_uploads", to="tracking.call", to_field="call_sid")),
            ],
            options={
                "verbose_name": "conversion upload",
                "ordering": ["-created_at"],
                "indexes": [
                    models.Index(condition=models.Q(("status", "pending")), fields=["destination", "next_attempt_at"], name="upload_due_idx"),
                    models.Index(condition=models.Q(("status", "sending")), fields=["lease_until"], name="upload_stalled_idx"),
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("call", "destination"), name="upload_per_call"),
                ],
            },
        ),
    ]
