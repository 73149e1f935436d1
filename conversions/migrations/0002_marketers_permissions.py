"""Marketers see each call's conversion uploads, and may send failed ones again."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Marketers"
PERMISSIONS = ["view_upload", "change_upload"]


def grant(apps, schema_editor):
    alias = schema_editor.connection.alias
    # On a fresh database permissions are only created after all migrations (post_migrate).
    create_permissions(
        global_apps.get_app_config("conversions"), verbosity=0, using=alias, apps=apps
    )
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = list(
        Permission.objects.using(alias).filter(
            content_type__app_label="conversions", codename__in=PERMISSIONS
        )
    )
    missing = set(PERMISSIONS) - {permission.codename for permission in permissions}
    if missing:
        raise RuntimeError(f"Permissions missing for the {GROUP} group: {sorted(missing)}")
    group, _ = Group.objects.using(alias).get_or_create(name=GROUP)
    group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    alias = schema_editor.connection.alias
    group = Group.objects.using(alias).filter(name=GROUP).first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.using(alias).filter(
                content_type__app_label="conversions", codename__in=PERMISSIONS
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("conversions", "0001_initial"),
        ("tracking", "0002_marketers_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
