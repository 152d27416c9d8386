"""The audit log refuses UPDATE and DELETE in the database itself (as ballots and the
ledger do), and city admins may read it."""

from django.db import migrations

from accounts.groups import CITY_ADMINS, grant_permissions

APPEND_ONLY = """
CREATE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_entry_append_only
    BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();
"""
DROP_APPEND_ONLY = """
DROP TRIGGER audit_entry_append_only ON audit_auditentry;
DROP FUNCTION audit_entry_append_only();
"""


def grant(apps, schema_editor):
    grant_permissions(apps, group=CITY_ADMINS, app_label="audit", codenames=["view_auditentry"])


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_audit_log"),
        ("accounts", "0002_city_groups"),
    ]

    operations = [
        migrations.RunSQL(APPEND_ONLY, DROP_APPEND_ONLY),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
