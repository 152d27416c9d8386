"""City admins publish novelties and judge suspicious ratings; city staff may look."""

from django.db import migrations

from accounts.groups import CITY_ADMINS, CITY_STAFF, grant_permissions, model_permissions


def grant(apps, schema_editor):
    grant_permissions(
        apps,
        group=CITY_ADMINS,
        app_label="novelties",
        codenames=[
            *model_permissions(["novelty", "noveltyphoto"]),
            *model_permissions(["rating"], ("view", "change")),
        ],
    )
    grant_permissions(
        apps,
        group=CITY_STAFF,
        app_label="novelties",
        codenames=model_permissions(["novelty", "noveltyphoto", "rating"], ("view",)),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("novelties", "0001_initial"),
        ("accounts", "0002_city_groups"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
