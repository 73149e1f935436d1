"""Marketers make, rename and delete their own API tokens (the admin shows each user theirs)."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Marketers"
PERMISSIONS = [f"{action}_apitoken" for action in ("add", "change", "delete", "view")]


def grant(apps, schema_editor):
    alias = schema_editor.connection.alias
    # Permissions are created after all migrations (post_migrate); a fresh database needs them now.
    create_permissions(global_apps.get_app_config("api"), verbosity=0, using=alias, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.using(alias).filter(name=GROUP).first()
    if group is not None:
        group.permissions.add(
            *Permission.objects.using(alias).filter(
                content_type__app_label="api", codename__in=PERMISSIONS
            )
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group = Group.objects.using(schema_editor.connection.alias).filter(name=GROUP).first()
    if group is not None:
        group.permissions.remove(*group.permissions.filter(content_type__app_label="api"))


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("tracking", "0002_marketers_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
