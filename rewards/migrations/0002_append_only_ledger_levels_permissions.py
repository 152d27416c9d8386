"""The ledger refuses UPDATE and DELETE in the database itself; the levels of the original
("Участник" from the start, "Активный гражданин" at 1,000 lifetime points, which opens the
shop, and two above it); and the staff groups' permissions on rewards."""

from django.db import migrations

from accounts.groups import CITY_ADMINS, CITY_STAFF, grant_permissions, model_permissions

APPEND_ONLY = """
CREATE FUNCTION rewards_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the points ledger is append-only: % is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER rewards_ledger_append_only
    BEFORE UPDATE OR DELETE ON rewards_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION rewards_ledger_append_only();
"""
DROP_APPEND_ONLY = """
DROP TRIGGER rewards_ledger_append_only ON rewards_ledgerentry;
DROP FUNCTION rewards_ledger_append_only();
"""
LEVELS = [
    ("Участник", 0, False),
    ("Активный гражданин", 1000, True),
    ("Эксперт", 5000, True),
    ("Почётный житель", 15000, True),
]


def seed(apps, schema_editor):
    Level = apps.get_model("rewards", "Level")
    for name, min_lifetime, opens_shop in LEVELS:
        Level.objects.get_or_create(
            min_lifetime=min_lifetime, defaults={"name": name, "opens_shop": opens_shop}
        )
    catalogue = ["reward", "level", "categorylimit", "redemption"]
    grant_permissions(
        apps, group=CITY_ADMINS, app_label="rewards", codenames=model_permissions(catalogue)
    )
    grant_permissions(
        apps,
        group=CITY_ADMINS,
        app_label="rewards",
        codenames=["view_ledgerentry", "add_ledgerentry", "view_wallet"],
    )
    grant_permissions(
        apps,
        group=CITY_STAFF,
        app_label="rewards",
        codenames=model_permissions(catalogue, ("view",)),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("rewards", "0001_initial"),
        ("accounts", "0002_city_groups"),
    ]

    operations = [
        migrations.RunSQL(APPEND_ONLY, DROP_APPEND_ONLY),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
