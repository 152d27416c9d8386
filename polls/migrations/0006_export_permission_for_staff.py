"""City staff and city admins may export results and ballots and see dashboards."""

from django.db import migrations

from accounts.groups import CITY_ADMINS, CITY_STAFF, grant_permissions


def grant(apps, schema_editor):
    for group in (CITY_ADMINS, CITY_STAFF):
        grant_permissions(
            apps, group=group, app_label="polls", codenames=["export_poll", "view_exportrecord"]
        )


class Migration(migrations.Migration):
    dependencies = [("polls", "0005_exports")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
