"""Account deletion (docs/decisions/0010): the erased account's mark, and the keyed hashes of
deleted accounts' addresses while a poll they voted in is open; beat forgets expired ones
every night at 04:00 (city time)."""

from django.conf import settings
from django.db import migrations, models

PURGE = "Forget deleted accounts' addresses"


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
        name=PURGE, defaults={"task": "accounts.tasks.purge_erased_emails", "crontab": nightly}
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=PURGE).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0013_suspension_permissions_and_purge_schedule'),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.CreateModel(
            name='ErasedEmail',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('digest', models.CharField(db_index=True, max_length=64)),
                ('blocked_until', models.DateTimeField()),
            ],
        ),
        migrations.AddField(
            model_name='user',
            name='erased_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='deleted'),
        ),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.CheckConstraint(condition=models.Q(('erased_at__isnull', True), ('is_active', False), _connector='OR'), name='user_erased_is_inactive'),
        ),
        migrations.AddIndex(
            model_name='erasedemail',
            index=models.Index(fields=['blocked_until'], name='erased_email_until'),
        ),
        migrations.RunPython(schedule, unschedule),
    ]
