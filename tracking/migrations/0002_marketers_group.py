"""The "Marketers" group: manages campaigns and tracking numbers, reads calls and reports."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Marketers"
PERMISSIONS = [
    f"{action}_{model}"
    for model in ("campaign", "trackingnumber")
    for action in ("add", "change", "delete", "view")
] + ["view_call"]


def create_group(apps, schema_editor):
    # Permissions are normally created after all migrations ran (post_migrate); on a fresh
    # database they do not exist yet, so create this app's now.
    create_permissions(
        global_apps.get_app_config("tracking"),
        verbosity=0,
        using=schema_editor.connection.alias,
        apps=apps,
    )
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = list(
        Permission.objects.using(schema_editor.connection.alias).filter(
            content_type__app_label="tracking", codename__in=PERMISSIONS
        )
    )
    missing = set(PERMISSIONS) - {permission.codename for permission in permissions}
    if missing:
        raise RuntimeError(f"Permissions missing for the {GROUP} group: {sorted(missing)}")
    group, _ = Group.objects.using(schema_editor.connection.alias).get_or_create(name=GROUP)
    group.permissions.add(*permissions)


def delete_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]
