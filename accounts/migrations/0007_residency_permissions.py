"""City staff verify residency: they generate and download codes and decide claims; city
admins may too."""

from django.db import migrations

from accounts.groups import CITY_ADMINS, CITY_STAFF, grant_permissions

RESIDENCY = [
    "view_residencyclaim",
    "change_residencyclaim",
    "add_residencycodebatch",
    "view_residencycodebatch",
    "download_residency_codes",
    "view_codeattempt",
]


def grant(apps, schema_editor):
    for group in (CITY_ADMINS, CITY_STAFF):
        grant_permissions(apps, group=group, app_label="accounts", codenames=RESIDENCY)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_residency")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
