"""Replies go one level deep, in the same discussion: a trigger refuses a reply whose parent
is itself a reply or belongs to another discussion (a CHECK cannot look at another row).
City admins run discussions and moderate them; city staff read them, give official answers
and export summaries. Beat publishes the summaries of ended discussions every minute."""

from django.db import migrations

from accounts.groups import CITY_ADMINS, CITY_STAFF, grant_permissions, model_permissions

ONE_LEVEL_FUNCTION = """
CREATE FUNCTION discussions_post_one_level() RETURNS trigger AS $$
BEGIN
    IF NEW.parent_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM discussions_post p
        WHERE p.id = NEW.parent_id AND p.parent_id IS NULL AND p.discussion_id = NEW.discussion_id
    ) THEN
        RAISE EXCEPTION 'a reply must answer a top-level post of the same discussion'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER discussions_post_one_level BEFORE INSERT OR UPDATE OF parent_id, discussion_id
    ON discussions_post FOR EACH ROW EXECUTE FUNCTION discussions_post_one_level();
"""
DROP_ONE_LEVEL = """
DROP TRIGGER discussions_post_one_level ON discussions_post;
DROP FUNCTION discussions_post_one_level();
"""

ADMIN_PERMISSIONS = [
    *model_permissions(["discussion", "document"]),
    "view_post",
    "change_post",
    "answer_post",
    "view_report",
    "export_discussion",
]
STAFF_PERMISSIONS = ["view_discussion", "view_post", "answer_post", "export_discussion"]


def grant(apps, schema_editor):
    grant_permissions(apps, group=CITY_ADMINS, app_label="discussions", codenames=ADMIN_PERMISSIONS)
    grant_permissions(apps, group=CITY_STAFF, app_label="discussions", codenames=STAFF_PERMISSIONS)


SUMMARY_TASK = "Publish the summaries of ended discussions"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=SUMMARY_TASK,
        defaults={
            "task": "discussions.tasks.publish_summaries",
            "interval": every_minute,
            "enabled": True,
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name=SUMMARY_TASK
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("discussions", "0001_initial"),
        ("accounts", "0002_city_groups"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunSQL(ONE_LEVEL_FUNCTION, DROP_ONE_LEVEL),
        migrations.RunPython(grant, migrations.RunPython.noop),
        migrations.RunPython(schedule, unschedule),
    ]
