"""The periodic schedule, kept in the database by django-celery-beat: every minute, open
and close polls, tally the closed ones, refresh live results, and send notification
emails. City admins see and change it in the admin ("Periodic tasks")."""

from django.db import migrations

SCHEDULE = {
    "Open polls whose time has come": "polls.tasks.open_due_polls",
    "Close polls whose time is up": "polls.tasks.close_due_polls",
    "Tally closed polls and publish results": "polls.tasks.tally_closed_polls",
    "Refresh live results": "polls.tasks.refresh_live_results",
    "Send notification emails": "accounts.tasks.email_notifications",
}


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    for name, task in SCHEDULE.items():
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": every_minute, "enabled": True}
        )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=SCHEDULE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("polls", "0003_lifecycle_and_tallies"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
