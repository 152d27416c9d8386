"""The "City admins" and "City staff" groups with the permissions they need.

Later apps add their own permissions to these groups in their own migrations.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CITY_ADMINS = "City admins"
CITY_STAFF = "City staff"

ADMIN_PERMISSIONS = {
    "civic": ["okrug", "district", "building"],
}
ADMIN_USER_PERMISSIONS = ["view_user", "change_user"]
STAFF_VIEW = {"civic": ["okrug", "district", "building"]}


def _ensure_permissions(apps):
    """Permissions are created after migrate; create them now so the groups can hold them."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None


def create_groups(apps, schema_editor):
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    admins, _ = Group.objects.get_or_create(name=CITY_ADMINS)
    admin_codenames = [
        f"{action}_{model}"
        for models in ADMIN_PERMISSIONS.values()
        for model in models
        for action in ("add", "change", "delete", "view")
    ]
    admins.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="civic", codename__in=admin_codenames
        ),
        *Permission.objects.filter(
            content_type__app_label="accounts", codename__in=ADMIN_USER_PERMISSIONS
        ),
    )

    staff, _ = Group.objects.get_or_create(name=CITY_STAFF)
    staff_codenames = [f"view_{model}" for models in STAFF_VIEW.values() for model in models]
    staff.permissions.add(
        *Permission.objects.filter(content_type__app_label="civic", codename__in=staff_codenames)
    )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[CITY_ADMINS, CITY_STAFF]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("civic", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
