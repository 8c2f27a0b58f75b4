"""The "Directory editors" group: review reported problems and correct listings, delete nothing.

Permissions are normally made by post_migrate, after every migration has run; on a fresh
database they do not exist yet, so they are made here first (create_permissions is
idempotent).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Directory editors"
PERMISSIONS = [
    ("directory", "meeting", "view_meeting"),
    ("directory", "meeting", "change_meeting"),
    ("directory", "changerequest", "view_changerequest"),
    ("directory", "changerequest", "change_changerequest"),
]


def add_group(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    for app_label, model, codename in PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(
                content_type__app_label=app_label, content_type__model=model, codename=codename
            )
        )


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("directory", "0008_change_requests"),
    ]

    operations = [migrations.RunPython(add_group, remove_group)]
