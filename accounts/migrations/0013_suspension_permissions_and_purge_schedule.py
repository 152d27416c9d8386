"""City admins suspend and reinstate accounts and see where sign-ups came from; beat deletes
sign-up addresses past their retention period every night at 04:00 (city time)."""

from django.conf import settings
from django.db import migrations

from accounts.groups import CITY_ADMINS, grant_permissions

SUSPENSION = ["suspend_user", "view_signuprecord"]
PURGE = "Forget old sign-up addresses"


def grant(apps, schema_editor):
    grant_permissions(apps, group=CITY_ADMINS, app_label="accounts", codenames=SUSPENSION)


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    nightly, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="4",
        day_of_month="*",
        month_of_year="*",
        day_of_week="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.get_or_create(
        name=PURGE, defaults={"task": "accounts.tasks.purge_signup_records", "crontab": nightly}
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=PURGE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0012_signup_records_and_suspension_notices"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(grant, migrations.RunPython.noop),
        migrations.RunPython(schedule, unschedule),
    ]
