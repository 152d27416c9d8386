"""The "City admins" and "City staff" groups with the permissions they need on the map
and on users; later apps grant their own permissions in their own migrations."""

from django.db import migrations

from accounts.groups import CITY_ADMINS, CITY_STAFF, grant_permissions, model_permissions

MAP = ["okrug", "district", "building"]


def create_groups(apps, schema_editor):
    grant_permissions(apps, group=CITY_ADMINS, app_label="civic", codenames=model_permissions(MAP))
    grant_permissions(
        apps, group=CITY_ADMINS, app_label="accounts", codenames=["view_user", "change_user"]
    )
    grant_permissions(
        apps, group=CITY_STAFF, app_label="civic", codenames=model_permissions(MAP, ("view",))
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
