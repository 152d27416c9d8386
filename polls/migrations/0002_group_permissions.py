"""City admins build polls; city staff may look at them."""

from django.db import migrations

from accounts.groups import CITY_ADMINS, CITY_STAFF, grant_permissions, model_permissions

POLL_MODELS = ["poll", "question", "option"]


def grant(apps, schema_editor):
    grant_permissions(
        apps, group=CITY_ADMINS, app_label="polls", codenames=model_permissions(POLL_MODELS)
    )
    grant_permissions(
        apps,
        group=CITY_STAFF,
        app_label="polls",
        codenames=model_permissions(POLL_MODELS, ("view",)),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("polls", "0001_initial"),
        ("accounts", "0002_city_groups"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
