"""The participation keeps its ballot's receipt sealed to the audit key; flagging runs and
their flags are append-only (the triggers of migration 0010), and city staff and admins
may look at them in the admin (docs/decisions/0009)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from accounts.groups import CITY_ADMINS, CITY_STAFF, grant_permissions

APPEND_ONLY = """
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION polls_append_only();
"""
DROP = "DROP TRIGGER {table}_append_only ON {table};"
TABLES = ["polls_ballotflagrun", "polls_ballotflag"]


def grant(apps, schema_editor):
    for group in (CITY_ADMINS, CITY_STAFF):
        grant_permissions(apps, group=group, app_label="polls", codenames=["view_ballotflagrun"])


class Migration(migrations.Migration):

    dependencies = [
        ('polls', '0014_decisions'),
    ]

    operations = [
        migrations.AddField(
            model_name='participation',
            name='sealed_receipt',
            field=models.BinaryField(null=True),
        ),
        migrations.CreateModel(
            name='BallotFlagRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='flagged')),
                ('suspended_participations', models.PositiveIntegerField(verbose_name='participations of suspended accounts')),
                ('unlinked', models.PositiveIntegerField(help_text='Participations whose receipt was not sealed, or not to this key.', verbose_name='not linkable')),
                ('note', models.CharField(blank=True, max_length=300, verbose_name='note')),
                ('poll', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='flag_runs', to='polls.poll', verbose_name='poll')),
            ],
            options={
                'verbose_name': 'ballot flagging',
                'verbose_name_plural': 'ballot flaggings',
                'ordering': ['poll', '-created_at', '-pk'],
                'get_latest_by': ['created_at', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='BallotFlag',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('ballot', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='polls.ballot')),
                ('run', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='flags', to='polls.ballotflagrun')),
            ],
            options={
                'verbose_name': 'ballot flag',
                'verbose_name_plural': 'ballot flags',
                'constraints': [models.UniqueConstraint(fields=('run', 'ballot'), name='ballot_flag_once_per_run')],
            },
        ),
        *(
            migrations.RunSQL(APPEND_ONLY.format(table=table), DROP.format(table=table))
            for table in TABLES
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
