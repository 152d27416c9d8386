"""City admins moderate building surveys: they read reports and hide surveys."""

from django.db import migrations

from accounts.groups import CITY_ADMINS, grant_permissions

MODERATION = ["view_buildingsurvey", "change_buildingsurvey", "view_surveyreport"]


def grant(apps, schema_editor):
    grant_permissions(apps, group=CITY_ADMINS, app_label="polls", codenames=MODERATION)


class Migration(migrations.Migration):
    dependencies = [("polls", "0007_building_surveys")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
