"""Ballots, their answers and the ballot log refuse UPDATE and DELETE in the database; the
only change allowed is forgetting the voter of an open ballot when their account goes.
And the schedule gains the checkpoint of ballot logs."""

from django.db import migrations

TABLES = ["polls_ballot", "polls_answer", "polls_logleaf", "polls_lognode", "polls_treehead"]

APPEND_ONLY_FUNCTION = """
CREATE FUNCTION polls_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE FUNCTION polls_ballot_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.voter_id IS NULL
           AND (NEW.id, NEW.poll_id, NEW.receipt, NEW.okrug_id, NEW.district_id,
                NEW.age_band, NEW.gender, NEW.apartment)
               IS NOT DISTINCT FROM
               (OLD.id, OLD.poll_id, OLD.receipt, OLD.okrug_id, OLD.district_id,
                OLD.age_band, OLD.gender, OLD.apartment) THEN
            RETURN NEW;  -- an open-ballot voter's account was deleted
        END IF;
    END IF;
    RAISE EXCEPTION 'polls_ballot is append-only: % is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""
DROP_FUNCTIONS = "DROP FUNCTION polls_append_only(); DROP FUNCTION polls_ballot_append_only();"
TRIGGER = """
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {function}();
"""
DROP = "DROP TRIGGER {table}_append_only ON {table};"

CHECKPOINT_TASK = "Checkpoint ballot logs"


def schedule_checkpoints(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_five_minutes, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=CHECKPOINT_TASK,
        defaults={
            "task": "polls.tasks.checkpoint_ballot_logs",
            "interval": every_five_minutes,
            "enabled": True,
        },
    )


def unschedule_checkpoints(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name=CHECKPOINT_TASK
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("polls", "0009_ballot_log"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunSQL(APPEND_ONLY_FUNCTION, DROP_FUNCTIONS),
        *(
            migrations.RunSQL(
                TRIGGER.format(
                    table=table,
                    function="polls_ballot_append_only"
                    if table == "polls_ballot"
                    else "polls_append_only",
                ),
                DROP.format(table=table),
            )
            for table in TABLES
        ),
        migrations.RunPython(schedule_checkpoints, unschedule_checkpoints),
    ]
