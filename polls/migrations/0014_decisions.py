"""Decisions taken after polls and their history of updates (docs/decisions/0008).

The database holds the rules: updates are append-only; what was decided (poll, text,
responsible body, date) never changes and a decision is never deleted; and at every commit
a decision's status is the status of its latest update. City admins record and update
decisions; city staff may look. Beat announces new and carried-out decisions to the
polls' participants every minute."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from accounts.groups import CITY_ADMINS, CITY_STAFF, grant_permissions

FUNCTIONS = """
CREATE FUNCTION polls_decisionupdate_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.created_by_id IS NULL
       AND (NEW.id, NEW.decision_id, NEW.status, NEW.note, NEW.date, NEW.created_at)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.decision_id, OLD.status, OLD.note, OLD.date, OLD.created_at) THEN
        RETURN NEW;  -- its author's account was deleted
    END IF;
    RAISE EXCEPTION 'polls_decisionupdate is append-only: % is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION polls_decision_kept() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'polls_decision is kept for the record: DELETE is not allowed';
    END IF;
    IF (NEW.id, NEW.poll_id, NEW.text, NEW.responsible_body, NEW.decided_on, NEW.created_at)
       IS DISTINCT FROM
       (OLD.id, OLD.poll_id, OLD.text, OLD.responsible_body, OLD.decided_on, OLD.created_at)
       OR (NEW.recorded_by_id IS DISTINCT FROM OLD.recorded_by_id
           AND NEW.recorded_by_id IS NOT NULL)
       OR (OLD.announced_at IS NOT NULL
           AND NEW.announced_at IS DISTINCT FROM OLD.announced_at)
       OR (OLD.done_announced_at IS NOT NULL
           AND NEW.done_announced_at IS DISTINCT FROM OLD.done_announced_at) THEN
        RAISE EXCEPTION 'polls_decision: what was decided cannot change, only its status';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

-- Deferred to the commit: a decision and its first update are inserted one after the other.
CREATE FUNCTION polls_decision_status_is_latest() RETURNS trigger AS $$
DECLARE
    decision bigint := (to_jsonb(NEW) ->> TG_ARGV[0])::bigint;
    decision_status text;
    latest_status text;
BEGIN
    SELECT d.status INTO decision_status FROM polls_decision d WHERE d.id = decision;
    SELECT u.status INTO latest_status FROM polls_decisionupdate u
        WHERE u.decision_id = decision ORDER BY u.id DESC LIMIT 1;
    IF latest_status IS NULL OR decision_status IS DISTINCT FROM latest_status THEN
        RAISE EXCEPTION 'decision %: status % is not the status of its latest update (%)',
            decision, decision_status, latest_status;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER polls_decisionupdate_append_only BEFORE UPDATE OR DELETE ON polls_decisionupdate
    FOR EACH ROW EXECUTE FUNCTION polls_decisionupdate_append_only();
CREATE TRIGGER polls_decision_kept BEFORE UPDATE OR DELETE ON polls_decision
    FOR EACH ROW EXECUTE FUNCTION polls_decision_kept();
CREATE CONSTRAINT TRIGGER polls_decision_status_is_latest
    AFTER INSERT OR UPDATE ON polls_decision DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION polls_decision_status_is_latest('id');
CREATE CONSTRAINT TRIGGER polls_decisionupdate_status_is_latest
    AFTER INSERT ON polls_decisionupdate DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION polls_decision_status_is_latest('decision_id');
"""
DROP_FUNCTIONS = """
DROP TRIGGER polls_decisionupdate_status_is_latest ON polls_decisionupdate;
DROP TRIGGER polls_decision_status_is_latest ON polls_decision;
DROP TRIGGER polls_decision_kept ON polls_decision;
DROP TRIGGER polls_decisionupdate_append_only ON polls_decisionupdate;
DROP FUNCTION polls_decision_status_is_latest();
DROP FUNCTION polls_decision_kept();
DROP FUNCTION polls_decisionupdate_append_only();
"""


def grant(apps, schema_editor):
    grant_permissions(
        apps,
        group=CITY_ADMINS,
        app_label="polls",
        codenames=["add_decision", "change_decision", "view_decision", "view_decisionupdate"],
    )
    grant_permissions(
        apps,
        group=CITY_STAFF,
        app_label="polls",
        codenames=["view_decision", "view_decisionupdate"],
    )


ANNOUNCE_TASK = "Announce decisions to poll participants"


def schedule_announcements(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=ANNOUNCE_TASK,
        defaults={
            "task": "polls.tasks.announce_decisions",
            "interval": every_minute,
            "enabled": True,
        },
    )


def unschedule_announcements(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=ANNOUNCE_TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("polls", "0013_safe_image_uploads"),
        ("accounts", "0002_city_groups"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Decision",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("text", models.TextField(max_length=2000, verbose_name="decision")),
                (
                    "responsible_body",
                    models.CharField(max_length=300, verbose_name="responsible body"),
                ),
                ("decided_on", models.DateField(verbose_name="decision date")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("planned", "Planned"),
                            ("in_progress", "In progress"),
                            ("done", "Done"),
                            ("declined", "Declined"),
                        ],
                        db_default="planned",
                        default="planned",
                        max_length=12,
                        verbose_name="status",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="recorded"
                    ),
                ),
                (
                    "announced_at",
                    models.DateTimeField(
                        blank=True, editable=False, null=True, verbose_name="announced"
                    ),
                ),
                (
                    "done_announced_at",
                    models.DateTimeField(
                        blank=True, editable=False, null=True, verbose_name="announced as done"
                    ),
                ),
                (
                    "poll",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="decisions",
                        to="polls.poll",
                        verbose_name="poll",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="recorded by",
                    ),
                ),
            ],
            options={
                "verbose_name": "decision",
                "verbose_name_plural": "decisions",
                "ordering": ["-decided_on", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="DecisionUpdate",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("planned", "Planned"),
                            ("in_progress", "In progress"),
                            ("done", "Done"),
                            ("declined", "Declined"),
                        ],
                        max_length=12,
                        verbose_name="status",
                    ),
                ),
                (
                    "note",
                    models.TextField(
                        blank=True, db_default="", max_length=2000, verbose_name="note"
                    ),
                ),
                ("date", models.DateField(verbose_name="date")),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="written"),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by",
                    ),
                ),
                (
                    "decision",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="updates",
                        to="polls.decision",
                        verbose_name="decision",
                    ),
                ),
            ],
            options={
                "verbose_name": "decision update",
                "verbose_name_plural": "decision updates",
                "ordering": ["decision", "pk"],
            },
        ),
        migrations.AddIndex(
            model_name="decision",
            index=models.Index(fields=["status"], name="decision_status"),
        ),
        migrations.AddConstraint(
            model_name="decision",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["planned", "in_progress", "done", "declined"])),
                name="decision_status_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="decision",
            constraint=models.CheckConstraint(
                condition=models.Q(("text__regex", "\\S"), ("responsible_body__regex", "\\S")),
                name="decision_says_what_and_who",
            ),
        ),
        migrations.AddConstraint(
            model_name="decisionupdate",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["planned", "in_progress", "done", "declined"])),
                name="decision_update_status_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="decisionupdate",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "declined"), _negated=True),
                    ("note__regex", "\\S"),
                    _connector="OR",
                ),
                name="decision_declined_with_reason",
            ),
        ),
        migrations.RunSQL(FUNCTIONS, DROP_FUNCTIONS),
        migrations.RunPython(grant, migrations.RunPython.noop),
        migrations.RunPython(schedule_announcements, unschedule_announcements),
    ]
