"""What a visitor consented to for ads, on their visit and on its calls' attribution (for
conversion uploads to Google)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("attribution", "0002_marketers_permissions"),
    ]

    operations = [
        migrations.AddField(
            model_name="visit",
            name="ad_user_data",
            field=models.BooleanField(
                blank=True, null=True, verbose_name="consented to ad user data"
            ),
        ),
        migrations.AddField(
            model_name="visit",
            name="ad_personalization",
            field=models.BooleanField(
                blank=True, null=True, verbose_name="consented to ad personalization"
            ),
        ),
        migrations.AddField(
            model_name="callattribution",
            name="ad_user_data",
            field=models.BooleanField(
                blank=True, null=True, verbose_name="consented to ad user data"
            ),
        ),
        migrations.AddField(
            model_name="callattribution",
            name="ad_personalization",
            field=models.BooleanField(
                blank=True, null=True, verbose_name="consented to ad personalization"
            ),
        ),
    ]
